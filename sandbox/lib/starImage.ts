// The star image, made here and imported (never pulled): static busybox plus stand-ins for star-probe and star-collect
// (starImage/), with the UI page they serve. Kept that small because vfs copies the whole image for each container.
import * as fs from "node:fs";
import * as path from "node:path";
import { image, paths, programs } from "./layout";
import { run } from "./run";

const tarball = path.join(paths.imageDir, "star.tar");

/**
 * Made anew by every up (alongside the key generation): down removes .state, so a cache would never be hit.
 * @returns the tarball
 */
export async function buildImageTarball(): Promise<string> {
    const rootfs = path.join(paths.imageDir, "rootfs");
    fs.mkdirSync(path.join(rootfs, "bin"), { recursive: true });
    fs.copyFileSync(programs.busybox, path.join(rootfs, "bin", "busybox"));
    const applets = (await run(programs.busybox, ["--list"])).split("\n").filter((name) => name && name !== "busybox");
    applets.forEach((applet) => fs.symlinkSync("busybox", path.join(rootfs, "bin", applet)));
    fs.mkdirSync(path.join(rootfs, "star", "target", "debug"), { recursive: true });
    fs.mkdirSync(path.join(rootfs, "star", "assets"));
    for (const helper of ["serve-request", "resources-of", "thread-pool"]) {
        fs.copyFileSync(path.join(paths.starScripts, helper), path.join(rootfs, "star", helper));
    }
    for (const binary of ["star-probe", "star-collect"]) {
        fs.copyFileSync(path.join(paths.starScripts, binary), path.join(rootfs, "star", "target", "debug", binary));
    }
    for (const asset of ["index.html", "example.json"]) {
        fs.copyFileSync(path.join(paths.starScripts, "assets", asset), path.join(rootfs, "star", "assets", asset));
    }
    fs.mkdirSync(path.join(rootfs, "etc"));
    fs.writeFileSync(path.join(rootfs, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    fs.mkdirSync(path.join(rootfs, "tmp"));
    fs.chmodSync(path.join(rootfs, "tmp"), 0o1777);
    await run(programs.tar, ["-C", rootfs, "--owner=0", "--group=0", "--numeric-owner", "-cf", tarball, "."]);
    fs.rmSync(rootfs, { recursive: true });
    return tarball;
}

export async function importImage(imageTarball: string, dockerSocket: string) {
    await run(programs.docker, [
        "-H",
        `unix://${dockerSocket}`,
        "import",
        "--change",
        "ENV PATH=/bin",
        "--change",
        'CMD ["/bin/sh"]',
        imageTarball,
        image,
    ]);
}

export async function imagePresent(dockerSocket: string): Promise<boolean> {
    return run(programs.docker, ["-H", `unix://${dockerSocket}`, "image", "inspect", image]).then(
        () => true,
        () => false,
    );
}
