// When the sandbox cluster cannot start here, say why (CI runs as root with the packages installed).
export { sandboxUnavailable } from "../../sandbox/cli";
