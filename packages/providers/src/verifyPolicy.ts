// The check that the policy took effect, as a step of `pulumi up` (config
// `verifyPolicy`): after the group, the rules and the DNAT rules, it waits until
// the collector's /responses, read through the master, shows the declared
// matrix, or fails the run with the same report `npm run verify` prints: the
// same check (verify/liveCheck.ts checkLive, which says when a reading is
// trusted), counting from its own start, as it runs right after the change it
// checks.
//
// Its inputs hold the declared matrix as plain data, so `pulumi preview` shows
// what will be checked. It checks only when that, where it reads from, or the
// deployment it checks (the group's version, the networks' IDs) changed, or when
// the last check or refresh did not find a match: Diff is computed from the
// inputs alone, so a no-op `up` opens no connection. Refresh reads /responses
// once and records what it shows, so an edge broken by hand makes the next `up`
// check again.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { ConfigError, PolicyVerificationError } from "./errors";
import { checkInputs, configureFromStack, Provider, requireHost, sameHost } from "./provider";
import { sshHostSchema } from "./ssh";
import { ipv4, marathonGroupId, port } from "./validators";
import {
    agreesWithDeclared,
    changeAssumptions,
    checkLive,
    CollectorEndpoint,
    fetchResponses,
    waitSummary,
} from "./verify/liveCheck";
import { declaredMatrixSchema } from "./verify/matrix";
import { starScheduleSchema } from "./verify/starApps";
import { observedMatrix } from "./verify/observedMatrix";
import { formatReportTable } from "./verify/reportTable";
import { compareMatrices, VerifyReport, VerifyResult } from "./verify/report";

/** What the check is made from; the VerifyPolicy resource (components/verifyPolicy.ts) takes these as its args. */
const verifyPolicyInputs = z.object({
    /** The host whose sshd forwards to the collector (the master). */
    host: sshHostSchema,
    /** The collector's fixed Calico address, as the master reaches it. */
    collectorIp: ipv4,
    /** star-collect's port. */
    collectorPort: port,
    /** What the observed matrix must equal: every edge, with its declared reach and the rules behind it. */
    declared: declaredMatrixSchema,
    /** The agents, where the star containers' net.ipv4.tcp_syn_retries is read. */
    agents: z.array(sshHostSchema),
    /** The Marathon group the star apps run in. */
    groupId: marathonGroupId,
    /** The star apps' rounds, from the commands the program deploys. */
    schedules: z.array(starScheduleSchema),
    /** How long to wait for every reading to be trusted; by default a little past the longest edge's bound. */
    timeoutSeconds: z.number().positive().max(7200).optional(),
    /** The deployment checked: the group's version after its last deployment. */
    groupVersion: z.string(),
    /** The deployment checked: each network's ID. */
    networkIds: z.array(z.string()),
});

export type VerifyPolicyInputs = z.output<typeof verifyPolicyInputs>;

export interface VerifyPolicyOutputs extends VerifyPolicyInputs {
    /** What the last check or refresh found. */
    result: VerifyResult;
    /** Its edge counts, e.g. "10 edges: 10 match, 0 mismatch, 0 unknown". */
    summary: string;
}

function collectorOf(inputs: Pick<VerifyPolicyInputs, "host" | "collectorIp" | "collectorPort">): CollectorEndpoint {
    return { host: inputs.host, address: inputs.collectorIp, port: inputs.collectorPort };
}

function summaryOf(report: VerifyReport): Pick<VerifyPolicyOutputs, "result" | "summary"> {
    return { result: report.result, summary: report.summary };
}

async function verify(inputs: VerifyPolicyInputs): Promise<VerifyPolicyOutputs> {
    const { report, decided } = await checkLive(
        {
            declared: inputs.declared,
            collector: collectorOf(inputs),
            agents: inputs.agents,
            groupId: inputs.groupId,
            schedules: inputs.schedules,
        },
        {
            since: changeAssumptions.justApplied,
            timeoutMs: inputs.timeoutSeconds === undefined ? undefined : inputs.timeoutSeconds * 1000,
            progress: (line) => pulumi.log.info(`verify: ${line}`),
        },
    );
    if (!decided || !agreesWithDeclared(report)) {
        const finding = decided
            ? "does not match the declared policy"
            : "could not be told: the timeout ran out before every reading could be trusted";
        throw new PolicyVerificationError(
            `the policy's observed effect ${finding} (${waitSummary(report)}; npm run verify prints the same ` +
                `report):\n${formatReportTable(report, { color: false })}`,
        );
    }
    const undecided = report.edges.filter((edge) => edge.status === "unknown");
    if (undecided.length > 0) {
        pulumi.log.warn(
            `verify: ${undecided.length} edge(s) the declared policy cannot decide, not checked: ` +
                undecided.map((edge) => `${edge.source} -> ${edge.target} (${edge.declared.reason})`).join("; "),
        );
    }
    pulumi.log.info(`verify: ${report.summary}; ${waitSummary(report)}`);
    return { ...inputs, ...summaryOf(report) };
}

export const verifyPolicyProvider: Provider<VerifyPolicyInputs, VerifyPolicyOutputs> = {
    configure: configureFromStack,

    async check(_olds, news) {
        return checkInputs<VerifyPolicyInputs>(verifyPolicyInputs, news);
    },

    // the agents, the schedules (the group's, which groupVersion follows) and the timeout say only how to check, not
    // what
    async diff(_id, olds, news) {
        const checked = (inputs: VerifyPolicyInputs) =>
            JSON.stringify([
                inputs.collectorIp,
                inputs.collectorPort,
                inputs.declared,
                inputs.groupVersion,
                inputs.networkIds,
            ]);
        return {
            changes: olds.result !== "match" || !sameHost(olds.host, news.host) || checked(olds) !== checked(news),
            replaces: [],
        };
    },

    async create(inputs) {
        return { id: `${inputs.collectorIp}:${inputs.collectorPort}`, outs: await verify(inputs) };
    },

    /**
     * One reading of /responses, taken as it is: what the collector shows now. Needs the host, the collector and the
     * declared matrix.
     */
    async read(id, props) {
        const host = requireHost(props, `policy check ${id}`);
        const parsed = verifyPolicyInputs
            .pick({ collectorIp: true, collectorPort: true, declared: true })
            .safeParse(props);
        if (!parsed.success) {
            throw new ConfigError(
                `policy check ${id}: cannot read it without ${[...new Set(parsed.error.issues.map((i) => String(i.path[0])))].join(", ")} ` +
                    "in the resource's properties: the declared matrix is what the reading is compared with",
            );
        }
        const fetched = await fetchResponses(collectorOf({ host, ...parsed.data }), 5000);
        const report = compareMatrices(props!.declared, observedMatrix(props!.declared, fetched));
        return { id, props: { ...props!, host, ...summaryOf(report) } };
    },

    async update(_id, _olds, news) {
        return { outs: await verify(news) };
    },

    // a check leaves nothing on the cluster
    async delete() {
        return;
    },
};
