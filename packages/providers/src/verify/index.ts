// What the policy should do and what the collector shows it does: the declared matrix (the policy evaluated
// as Felix programs it), the observed one (the collector's /responses), and the report comparing them.
export { VerifyInputError } from "../errors";
export { declaredMatrix, outsideNodeId } from "./declaredMatrix";
export type { DeclaredMatrixInput } from "./declaredMatrix";
export { describeOutcome, describeRule, evaluateFlow, isDrop } from "./felixEvaluator";
export type { ChainOutcome, Flow, FlowEnd, FlowVerdict, NearMiss, RuleRef } from "./felixEvaluator";
export { agreesWithDeclared, awaitVerdict, describeCollector, fetchResponses } from "./liveCheck";
export type { CollectorEndpoint, LiveVerdict, ReadResponses } from "./liveCheck";
export { edgeName } from "./matrix";
export type { DeclaredCause, DeclaredEdge, DeclaredMatrix, MatrixNode, ObservedMatrix, Reach } from "./matrix";
export { dottedTaskName, marathonTaskName, mesosDnsName, resolveAppHost, rfc1123Label } from "./mesosDns";
export { observedMatrix, parseResponses } from "./observedMatrix";
export type { CollectorFetch, StarResponses } from "./observedMatrix";
export { libnetworkDefaultPolicy, profilesFromPolicy } from "./policyProfiles";
export type { PolicyProfile, PolicyProfiles, PolicyText } from "./policyProfiles";
export { compareMatrices, reportJson, verifyExitCodes, verifyReportSchema } from "./report";
export type { Mismatch, ReportEdge, VerifyReport, VerifyResult } from "./report";
export { colorWanted, formatReportTable } from "./reportTable";
export type { Packet } from "./ruleMatch";
export { deployedApps, parseResourcesFile, probeRoundMs } from "./starApps";
export type { DeployedApp, DeployedResource } from "./starApps";
