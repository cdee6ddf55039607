// verify's API for the `npm run verify` CLI. The `verifyPolicy` resource's
// provider should import the zod-free files it needs directly
// (observedMatrix, verifyReport, reportTable) rather than this index, which
// also pulls in the schema, the picture and the renderers.
import { writeFileSync } from "fs";
import { renderGraphSvg } from "./graphSvg";
import { svgToPng } from "./svgToPng";
import type { VerifyReport } from "./verifyReport";

export { evaluateFlow, describeOutcome } from "./felixEvaluator";
export type { ChainOutcome, Flow, FlowEnd, FlowVerdict, NearMiss, RuleRef } from "./felixEvaluator";
export { libnetworkDefaultPolicy, profilesFromPolicy, VerifyInputError } from "./policyProfiles";
export type { PolicyProfile, PolicyProfiles, PolicyText } from "./policyProfiles";
export { declaredMatrix, outsideNodeId } from "./declaredMatrix";
export type { DeclaredMatrixInput } from "./declaredMatrix";
export { declaredMatrixForStack } from "./stackDeclaredMatrix";
export type { ClusterFacts, StackPolicy } from "./stackDeclaredMatrix";
export { observedMatrix, parseResponses } from "./observedMatrix";
export type { CollectorFetch, StarResponses } from "./observedMatrix";
export { compareMatrices, reportJson, verifyExitCodes } from "./verifyReport";
export type { Mismatch, ReportEdge, VerifyReport, VerifyResult } from "./verifyReport";
export { colorWanted, formatReportTable } from "./reportTable";
export { verifyReportJsonSchemaText, verifyReportSchema } from "./reportSchema";
export { renderGraphSvg } from "./graphSvg";
export type { DeclaredMatrix, MatrixNode, ObservedMatrix, Reach } from "./matrix";

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
