// verify's picture (and verify --plan's): drawn as an SVG, and a PNG beside it when a converter is present.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "fs";
import { dirname, join } from "path";
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

/**
 * Writes the SVG, and a PNG when a converter is present; says which were written. Both are made as new files in a
 * directory of their own beside the pictures and renamed into place, so whatever is at a picture's path, a symbolic
 * link included, is replaced, never written through.
 */
export async function writePicture(picture: GraphPicture, files: PictureFiles): Promise<WrittenPicture> {
    const scratch = mkdtempSync(join(dirname(files.svgPath), ".verify-picture-"));
    try {
        const svg = join(scratch, "picture.svg");
        const pngOut = join(scratch, "picture.png");
        writeFileSync(svg, picture.svg, { flag: "wx" });
        const png = await svgToPng(svg, pngOut, {
            width: picture.width,
            height: picture.height,
            timeoutMs: files.timeoutMs,
        });
        renameSync(svg, files.svgPath);
        if (png.png === undefined) {
            // a PNG left from an earlier run must not pass for this one
            rmSync(files.pngPath, { force: true });
            const skipped = png.skipped?.replaceAll(pngOut, files.pngPath).replaceAll(svg, files.svgPath);
            return { svg: files.svgPath, pngSkipped: skipped };
        }
        renameSync(png.png, files.pngPath);
        return { svg: files.svgPath, png: files.pngPath };
    } finally {
        rmSync(scratch, { recursive: true, force: true });
    }
}

/** What a run prints about the picture: its files, or why there is no PNG. */
export function pictureLines(written: WrittenPicture): string[] {
    return [
        `picture: ${written.svg}`,
        written.png === undefined ? `no PNG: ${written.pngSkipped}` : `picture: ${written.png}`,
    ];
}
