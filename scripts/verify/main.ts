// `npm run verify [-- --stack <name>] [--json] [--timeout <seconds>] [--picture <file.svg>]`
// `npm run verify -- --plan [--stack <name>] [--json] [--picture <file.svg>]`: the edges up would open and close
// (planCommand.ts), exit 0 (none), 1 (some), 2 (some edge cannot be told) or 3.
//
// Checks the policy's observed effect against the declared policy, without the
// Pulumi CLI: the stack's config from its files (the program's schema, SSH
// layer and host-key checks), the group as Marathon runs it, the declared matrix
// from the stack's policy, the observed one from the collector's /responses
// (@calico-stars/providers, verify/liveCheck.ts, says when it is trusted). Prints both side by
// side (or, with --json, the report), writes the picture, and exits
// 0 (observed matches declared), 1 (an edge differs), 2 (some edge could not be
// told) or 3 (verify could not run: config, credentials, SSH, Marathon).
import { parseArgs } from "util";
import { resolve } from "path";
import { closeAllConnections, configureSsh } from "@calico-stars/providers/ssh";
import {
    awaitVerdict,
    colorWanted,
    declaredMatrix,
    describeCollector,
    fetchResponses,
    formatReportTable,
    probeRoundMs,
    profilesFromPolicy,
    reportJson,
} from "@calico-stars/providers/verify";
import { readDeployedStack } from "./deployedStack";
import { runPlan } from "./planCommand";
import { pictureFiles, pictureLines, writeGraphPicture } from "./picture";
import { verifySettings } from "./stackSettings";

const couldNotRun = 3;
const defaultTimeoutSeconds = 180;

const usage = `usage: npm run verify -- [--stack <name>] [--json] [--timeout <seconds>] [--picture <file.svg>]
       npm run verify -- --plan [--stack <name>] [--json] [--picture <file.svg>]

  --stack <name>       the stack whose Pulumi.<name>.yaml to read (default: the selected stack, or the only stack file)
  --json               print the report as JSON (scripts/verify/verifyReport.schema.json), or the plan
  --timeout <seconds>  how long to wait for fresh probe results that match (default ${defaultTimeoutSeconds})
  --picture <file>     where to write the SVG (default verify-<stack>.svg; with --plan, only when given); the PNG goes beside it
  --plan               the edges up would open and close: the stack's policy against the cluster's current rules
exit status: 0 match, 1 mismatch, 2 incomplete, 3 could not run
  with --plan: 0 no edge would change, 1 some would, 2 some edge cannot be told, 3 could not run`;

function say(line: string): void {
    process.stderr.write(`verify: ${line}\n`);
}

async function main(argv: string[]): Promise<number> {
    const { values } = parseArgs({
        args: argv,
        options: {
            stack: { type: "string" },
            json: { type: "boolean", default: false },
            timeout: { type: "string" },
            picture: { type: "string" },
            plan: { type: "boolean", default: false },
            help: { type: "boolean", default: false },
        },
        strict: true,
    });
    if (values.help) {
        process.stdout.write(`${usage}\n`);
        return 0;
    }
    if (values.plan && values.timeout !== undefined) {
        throw new UsageError("--timeout is for verify's wait on the probes; --plan waits for nothing");
    }
    const timeoutSeconds = values.timeout === undefined ? defaultTimeoutSeconds : Number(values.timeout);
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > 3600) {
        throw new UsageError(`--timeout must be a number of seconds, 1 to 3600, not ${JSON.stringify(values.timeout)}`);
    }
    const settings = verifySettings(process.cwd(), values.stack);
    settings.warnings.forEach(say);
    const { config, master } = settings;
    configureSsh(settings.ssh);
    try {
        if (values.plan) {
            const picture = values.picture === undefined ? undefined : resolve(values.picture);
            return await runPlan(config, { json: values.json, picture, say });
        }
        const deployed = await readDeployedStack(config, master);
        deployed.notes.forEach(say);
        const declared = declaredMatrix({
            group: deployed.group,
            resourcesFile: deployed.resourcesFile,
            mesosDnsDomain: config.mesosDnsDomain,
            collectorPort: config.collectorPort,
            profiles: profilesFromPolicy(
                config.networks.map((network) => network.name),
                config.policy,
            ),
            // verify's own fetch comes from the master, as the UI's browser does through its DNAT rules
            outsideAddress: /^\d+\.\d+\.\d+\.\d+$/.test(master.address) ? master.address : undefined,
            addresses: deployed.addresses,
        });
        declared.notes.push(...deployed.notes);
        const collector = { host: master, address: config.collectorIp, port: config.collectorPort };
        const verdict = await awaitVerdict(declared, (timeoutMs) => fetchResponses(collector, timeoutMs), {
            source: describeCollector(collector),
            timeoutMs: timeoutSeconds * 1000,
            roundMs: probeRoundMs(deployed.group),
            progress: say,
        });
        const report = verdict.report;
        const svgPath = resolve(values.picture ?? `verify-${settings.stackFile.stack}.svg`);
        const picture = await writeGraphPicture(report, pictureFiles(svgPath));
        const decided = `${verdict.fresh ? "decided" : "gave up"} after ${Math.round(verdict.elapsedMs / 100) / 10} s (${verdict.fetches} fetches of /responses)`;
        if (values.json) {
            process.stdout.write(reportJson(report));
            [...pictureLines(picture), decided].forEach(say);
        } else {
            process.stdout.write(formatReportTable(report, { color: colorWanted(process.stdout, process.env) }));
            process.stdout.write(`\n${[...pictureLines(picture), decided].join("\n")}\n`);
        }
        return report.exitCode;
    } finally {
        await closeAllConnections();
    }
}

class UsageError extends Error {}

// stdout holds only the table or the JSON: anything else printed on the way (say, the Marathon client's retry
// messages through pulumi.log, which print to the console outside a Pulumi run) goes to stderr
console.log = console.error;

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
        const isUsage = error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
        process.stderr.write(`verify: ${error.message}\n${isUsage ? `${usage}\n` : ""}`);
        process.exit(couldNotRun);
    },
);
