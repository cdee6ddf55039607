// verify's API for the `npm run verify` CLI. What the `verifyPolicy` resource's provider runs (evaluating the
// rules, reading the collector, comparing and reporting) is in @calico-stars/providers/verify; the declared
// matrix of a stack, the stack file, the schema and the picture are here.
import { writeFileSync } from "fs";
import { renderGraphSvg } from "./graphSvg";
import { svgToPng } from "./svgToPng";
import type { VerifyReport } from "@calico-stars/providers/verify/verifyReport";

export { evaluateFlow, describeOutcome } from "@calico-stars/providers/verify/felixEvaluator";
export type { ChainOutcome, Flow, FlowEnd, FlowVerdict, NearMiss, RuleRef } from "@calico-stars/providers/verify/felixEvaluator";
export { libnetworkDefaultPolicy, profilesFromPolicy, VerifyInputError } from "@calico-stars/providers/verify/policyProfiles";
export type { PolicyProfile, PolicyProfiles, PolicyText } from "@calico-stars/providers/verify/policyProfiles";
export { declaredMatrix, outsideNodeId } from "./declaredMatrix";
export type { DeclaredMatrixInput } from "./declaredMatrix";
export { declaredMatrixForStack } from "./stackDeclaredMatrix";
export type { ClusterFacts, StackPolicy } from "./stackDeclaredMatrix";
export { observedMatrix, parseResponses } from "@calico-stars/providers/verify/observedMatrix";
export type { CollectorFetch, StarResponses } from "@calico-stars/providers/verify/observedMatrix";
export { compareMatrices, reportJson, verifyExitCodes } from "@calico-stars/providers/verify/verifyReport";
export type { Mismatch, ReportEdge, VerifyReport, VerifyResult } from "@calico-stars/providers/verify/verifyReport";
export { colorWanted, formatReportTable } from "@calico-stars/providers/verify/reportTable";
export { verifyReportJsonSchemaText, verifyReportSchema } from "./reportSchema";
export { renderGraphSvg } from "./graphSvg";
export type { DeclaredMatrix, MatrixNode, ObservedMatrix, Reach } from "@calico-stars/providers/verify/matrix";

export interface PictureFiles {
    /** Where the SVG goes. */
    svgPath: string;
    /** Where the PNG goes, when a converter is present. */
    pngPath: string;
    /** How long the converter may run. */
    timeoutMs?: number;
}

export interface WrittenPicture {
    /** The SVG's path. */
    svg: string;
    /** The PNG's path, when one was written. */
    png?: string;
    /** Why there is no PNG. */
    pngSkipped?: string;
}

/** Writes the SVG, and a PNG when a converter is present; says which were written. */
export async function writeGraphPicture(report: VerifyReport, files: PictureFiles): Promise<WrittenPicture> {
    const picture = renderGraphSvg(report);
    writeFileSync(files.svgPath, picture.svg);
    const png = await svgToPng(files.svgPath, files.pngPath, { width: picture.width, height: picture.height, timeoutMs: files.timeoutMs });
    return png.png === undefined ? { svg: files.svgPath, pngSkipped: png.skipped } : { svg: files.svgPath, png: png.png };
}
