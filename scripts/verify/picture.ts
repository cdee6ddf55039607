// verify's picture (and verify --plan's): drawn as an SVG, and a PNG beside it when a converter is present.
import { writeFileSync } from "fs";
import type { VerifyReport } from "@calico-stars/providers/verify";
import { GraphPicture, renderGraphSvg } from "./graphSvg";
import { svgToPng } from "./svgToPng";

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

/** The files for an SVG path: the PNG goes beside it. */
export function pictureFiles(svgPath: string): PictureFiles {
    return { svgPath, pngPath: svgPath.replace(/\.svg$/i, "") + ".png" };
}

/** Writes verify's picture of a report. */
export function writeGraphPicture(report: VerifyReport, files: PictureFiles): Promise<WrittenPicture> {
    return writePicture(renderGraphSvg(report), files);
}

/** Writes the SVG, and a PNG when a converter is present; says which were written. */
export async function writePicture(picture: GraphPicture, files: PictureFiles): Promise<WrittenPicture> {
    writeFileSync(files.svgPath, picture.svg);
    const png = await svgToPng(files.svgPath, files.pngPath, {
        width: picture.width,
        height: picture.height,
        timeoutMs: files.timeoutMs,
    });
    return png.png === undefined
        ? { svg: files.svgPath, pngSkipped: png.skipped }
        : { svg: files.svgPath, png: png.png };
}

/** What a run prints about the picture: its files, or why there is no PNG. */
export function pictureLines(written: WrittenPicture): string[] {
    return [
        `picture: ${written.svg}`,
        written.png === undefined ? `no PNG: ${written.pngSkipped}` : `picture: ${written.png}`,
    ];
}
