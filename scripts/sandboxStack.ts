// The program as a stack on the sandbox cluster, for the tests, the bench and verify:picture: the stack config that
// targets it, a driver that runs index.ts against it (the test engine, or the Pulumi CLI where one is installed),
// and the ways to look at the cluster (over SSH, as an operator would).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { runbookPolicy } from "../components/config";
import {
    closeAllConnections,
    configureSsh,
    httpOverSsh,
    HttpResponse,
    runChecked,
    SshHost,
} from "@calico-stars/providers/ssh";
import * as sandbox from "../sandbox/cli";
import {
    Cluster,
    configKey,
    programLogin,
    rootLogin,
    StackConfigSource,
    stackConfigOf,
} from "../sandbox/lib/clusterFiles";
import type { FaultSwitches } from "../sandbox/marathon/faults";
import { AutomationDriver, EngineDriver, emulators, StackDriver, TestEngine } from "../engine";

const projectDir = path.resolve(__dirname, "..");
export { sandbox };
export const profiles = ["management-ui", "client", "frontend", "backend"];
/** A one-rule policy change: backend's third rule opens it to client instead of frontend. */
export const oneRuleChange: Record<string, { inbound: string[]; outbound: string[] }> = {
    ...runbookPolicy,
    backend: {
        inbound: [...runbookPolicy.backend.inbound.slice(0, 2), "allow tcp from tag client to ports 9000"],
        outbound: ["allow"],
    },
};

export type Policy = Record<string, { inbound: string[]; outbound: string[] }>;

/** `calicoctl profile <P> rule show` for these rules, as calicoctl 0.x numbers them. */
export function ruleShowOf(rules: { inbound: string[]; outbound: string[] }): string {
    const numbered = (list: string[]) => list.map((rule, i) => `${String(i + 1).padStart(4)} ${rule}\n`).join("");
    return `Inbound rules:\n${numbered(rules.inbound)}Outbound rules:\n${numbered(rules.outbound)}`;
}

/** A host as the tests look at it (the sandbox's root login); a host a lookup did not find fails here, saying so. */
export function sshHostOf(host: Pick<Cluster["master"], "address" | "port"> | undefined): SshHost {
    assert.ok(host, "no such host in the sandbox");
    return rootLogin(host);
}

/** A host as the program logs in to it (the sandbox's program login). */
export const programHostOf: (
    cluster: Pick<Cluster, "sudo">,
    host: Pick<Cluster["master"], "address" | "port" | "user">,
) => SshHost = programLogin;

/**
 * The stack config the sandbox gives the program (its Pulumi.sandbox.yaml's keys), as `pulumi config set` would hold
 * it, plus a short deployment timeout.
 */
export function sandboxStackConfig(cluster: StackConfigSource): Record<string, string> {
    // the sandbox's stack file turns the check on; a suite that wants it (verify.test.ts) sets it
    const values = { ...stackConfigOf(cluster), deploymentTimeoutSeconds: 60, verifyPolicy: false };
    return Object.fromEntries(
        Object.entries(values).map(([key, value]) => [
            configKey(key),
            typeof value === "string" ? value : JSON.stringify(value),
        ]),
    );
}

export class SandboxStack {
    readonly master: SshHost;
    /** Where the program runs docker and calicoctl by default. */
    readonly agent: SshHost;

    private constructor(
        readonly cluster: Cluster,
        readonly driver: StackDriver,
    ) {
        this.master = sshHostOf(cluster.master);
        this.agent = sshHostOf(cluster.agents[0]);
        // the test's own SSH layer
        configureSsh({
            privateKeyPath: cluster.sshPrivateKeyPath,
            hostKeys: {},
            hostKeyFingerprints: cluster.hostKeyFingerprints,
            insecureSkipHostKeyVerification: false,
            connectTimeoutMs: 10000,
            commandTimeoutMs: 60000,
            connectAttempts: 3,
        });
    }

    /** The test engine behind the driver, for suites that only it can run (faults it injects, kills, RPC counts). */
    get engine(): TestEngine {
        if (!(this.driver instanceof EngineDriver)) {
            throw new Error(`this suite needs the test engine, not ${this.driver.name}`);
        }
        return this.driver.engine;
    }

    /** Brings the sandbox up; `close` must follow, even when the run fails. */
    static async start(kind: "engine" | "cli" = "engine"): Promise<SandboxStack> {
        const cluster = await sandbox.up();
        try {
            const config = sandboxStackConfig(cluster);
            const driver =
                kind === "engine"
                    ? new EngineDriver(
                          new TestEngine({ projectDir, project: "calico-stars", stack: "sandbox", config, emulators }),
                      )
                    : // the stack the sandbox's Pulumi.sandbox.yaml is written for
                      await AutomationDriver.create(projectDir, "sandbox", config);
            return new SandboxStack(cluster, driver);
        } catch (error) {
            await sandbox.down();
            throw error;
        }
    }

    async close(): Promise<void> {
        await this.driver.close();
        await closeAllConnections();
        await sandbox.down();
    }

    /** Commands the hosts ran so far, by the sandbox's audit logs (one JSON line each). */
    auditEntries(): string[] {
        return this.cluster.hosts.flatMap((h) =>
            fs.existsSync(h.auditLog) ? fs.readFileSync(h.auditLog, "utf8").split("\n").filter(Boolean) : [],
        );
    }

    auditLines(): number {
        return this.auditEntries().length;
    }

    async on(host: SshHost, argv: string[]): Promise<string> {
        return (await runChecked(host, argv)).stdout;
    }

    ruleShow(profile: string): Promise<string> {
        return this.on(this.agent, ["calicoctl", "profile", profile, "rule", "show"]);
    }

    /** The master's nat rules that DNAT, or masquerade what was DNATed, sorted. */
    async natRules(): Promise<string[]> {
        return (await this.on(this.master, ["iptables", "-t", "nat", "-S"]))
            .split("\n")
            .filter((l) => l.includes("DNAT"))
            .sort();
    }

    async networks(): Promise<string[]> {
        return (
            await this.on(this.agent, ["docker", "network", "ls", "--filter", "driver=calico", "--format", "{{.Name}}"])
        )
            .split("\n")
            .filter(Boolean)
            .sort();
    }

    marathon(method: string, urlPath: string, body?: unknown): Promise<HttpResponse> {
        return httpOverSsh(this.master, {
            method,
            path: urlPath,
            body: body === undefined ? undefined : JSON.stringify(body),
            targetHost: "127.0.0.1",
            targetPort: 8080,
        });
    }

    /**
     * The sandbox Marathon's fault switches (sandbox/marathon/faults.ts): deployDelayMs, hangDeployments, failNext,
     * lockAppsForMs, noLeaderForMs.
     */
    async marathonFaults(faults: Partial<FaultSwitches> | "reset"): Promise<void> {
        const response =
            faults === "reset"
                ? await this.marathon("DELETE", "/_sandbox/faults")
                : await this.marathon("POST", "/_sandbox/faults", faults);
        if (response.status !== 200) {
            throw new Error(`Marathon faults ${JSON.stringify(faults)}: HTTP ${response.status} ${response.body}`);
        }
    }

    /**
     * Fails unless the cluster holds exactly what the program declares: the networks (the runbook's four unless named),
     * each profile's rules as `policy` says (rule show, line by line), the three DNAT rules (PREROUTING, OUTPUT and the
     * POSTROUTING masquerade), and the group's four apps.
     */
    async assertConverged(
        policy: Record<string, { inbound: string[]; outbound: string[] }> = runbookPolicy,
        networks: string[] = profiles,
    ): Promise<void> {
        assert.deepStrictEqual(await this.networks(), [...networks].sort());
        for (const profile of Object.keys(policy)) {
            assert.strictEqual(await this.ruleShow(profile), ruleShowOf(policy[profile]), `profile ${profile}`);
        }
        assert.deepStrictEqual(
            (await this.natRules())
                .filter((rule) => /--comment "?calico-stars:[0-9a-f]{8}/.test(rule))
                .map((rule) => rule.split(" ")[1]),
            ["OUTPUT", "POSTROUTING", "PREROUTING"],
        );
        const group = await this.marathon("GET", "/v2/groups/calico-stars");
        assert.strictEqual(group.status, 200);
        assert.deepStrictEqual((JSON.parse(group.body) as { apps: { id: string }[] }).apps.map((a) => a.id).sort(), [
            "/calico-stars/backend",
            "/calico-stars/client",
            "/calico-stars/frontend",
            "/calico-stars/management-ui",
        ]);
        const deployments = await this.marathon("GET", "/v2/deployments");
        assert.deepStrictEqual(JSON.parse(deployments.body), [], "no deployment left running");
    }
}
