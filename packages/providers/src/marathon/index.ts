// Marathon's v2 API as the program uses it through the master's sshd, and the group this stack sends.
export { MarathonError } from "../errors";
export { MarathonClient } from "./client";
export type { MarathonEndpoint, MarathonGroupJson } from "./client";
export { foreignContent, normalizeGroup } from "./group";
export type { MarathonApp, MarathonGroup, UpgradeStrategy } from "./group";
