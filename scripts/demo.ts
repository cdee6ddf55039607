// `npm run demo`: README's "Try it on the sandbox" block, run exactly as written (the block after the
// demo marker), so that README's walk-through is the demo and cannot go stale. Needs the Pulumi CLI and root.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import which from "which";
import { demoBlock } from "./readmeShell";

const projectDir = path.resolve(__dirname, "..");

function main(): number {
    if (which.sync("pulumi", { nothrow: true }) === null) {
        console.error(
            "npm run demo drives the Pulumi CLI, which is not on PATH. Install it (https://www.pulumi.com/docs/install/:\n" +
                "  curl -fsSL https://get.pulumi.com | sh\nthen open a new shell, or add ~/.pulumi/bin to PATH) and run npm run demo again.",
        );
        return 1;
    }
    if (process.getuid?.() !== 0) {
        console.error(
            "npm run demo builds the sandbox cluster, which needs root (network namespaces, sshd, dockerd): run it as root.",
        );
        return 1;
    }
    const block = demoBlock(fs.readFileSync(path.join(projectDir, "README.md"), "utf8"));
    console.log(`Running README.md's block at line ${block.line}, one command at a time:\n`);
    const run = spawnSync("/bin/sh", ["-e", "-x", "-c", block.text], { cwd: projectDir, stdio: "inherit" });
    if (run.status !== 0) {
        console.error(
            `\nThe demo stopped at the command above (exit ${run.status ?? run.signal}). The sandbox may still be up: ` +
                "npm run sandbox -- down removes it; with PULUMI_BACKEND_URL as in the block, pulumi stack rm --force -s sandbox drops the stack.",
        );
        return 1;
    }
    return 0;
}

process.exitCode = main();
