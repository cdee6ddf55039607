// Marathon's REST API (v2) as the provider uses it, through the master's sshd:
// typed requests, every answer checked against a schema, and one retry policy
// bounded by the operation's deadline, for what real Marathon does
// (mesosphere/marathon v0.14.2 and v1.1.1, api/MarathonExceptionMapper.scala and api/v2/*Resource.scala):
// - 502/503/504 (no leader yet, waiting on ZooKeeper) and a refused forwarded connection (Marathon not
//   listening): tried again with a growing pause;
// - 409 with deployments listed: wait for them, then try again; 409 with none listed, or only finished
//   ones (a scale or task kill holds the lock, or the listing lags): a growing pause, then try again;
// - after a PUT, its deployment must be gone from /v2/deployments, and then every app must run its
//   instances on tasks of its current configuration, none of an older one left, and no deployment listed on it:
//   an unchanged PUT plans nothing and "succeeds" at once, and a deployment is listed only once its first step
//   began (v0.14.2 MarathonSchedulerActor.deploy answers before it sends PerformDeployment; DeploymentManager
//   lists the DeploymentStepInfo its DeploymentActor reports), while the old tasks still count as running.
// Past the deadline, every wait ends in a MarathonError saying what it waited for.
import { setTimeout as sleep } from "timers/promises";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { MarathonError } from "../errors";
import { hostLabel, httpOverSsh, HttpResponse, isForwardRefused, SshHost } from "../ssh";

export interface MarathonEndpoint {
    /** The host whose sshd forwards to Marathon (the master). */
    host: SshHost;
    /** Marathon's address as that host sees it. */
    marathonHost: string;
    marathonPort: number;
}

export interface MarathonTiming {
    /** How long one operation (retries, lock waits, its deployment) may take. */
    timeoutSeconds: number;
    /** The first pause between tries; it doubles up to `maxPauseMs`. */
    firstPauseMs?: number;
    maxPauseMs?: number;
}

/** What a failed or stuck deployment needs to be cleared; only said when force is not in use. */
const forceHint =
    "a deployment that never finishes blocks every later change of these apps (HTTP 409) until it ends: " +
    "cancel it (DELETE /v2/deployments/<id>), or set calico-stars:forceDeployments to true, which sends the PUT with ?force=true " +
    "and so cancels the deployments in its way (docs/sharedCluster.md)";

export interface MarathonAppJson {
    id: string;
    labels?: Record<string, string> | null;
    instances?: number | null;
    [field: string]: unknown;
}

export interface MarathonGroupJson {
    id: string;
    apps?: MarathonAppJson[] | null;
    groups?: MarathonGroupJson[] | null;
    version?: string | null;
}

export interface DeploymentJson {
    id: string;
    affectedApps?: string[] | null;
    currentStep?: number | null;
    totalSteps?: number | null;
    currentActions?: { action: string; app: string }[] | null;
}

export interface WriteAnswer {
    deploymentId: string;
    version: string;
}

const appSchema = z
    .object({ id: z.string(), labels: z.record(z.string(), z.string()).nullish(), instances: z.number().nullish() })
    .loose();

const groupSchema: z.ZodType<MarathonGroupJson> = z
    .object({
        id: z.string(),
        apps: z.array(appSchema).nullish(),
        groups: z.array(z.lazy(() => groupSchema)).nullish(),
        version: z.string().nullish(),
    })
    .loose();

const deploymentsSchema = z.array(
    z
        .object({
            id: z.string(),
            affectedApps: z.array(z.string()).nullish(),
            currentStep: z.number().nullish(),
            totalSteps: z.number().nullish(),
            currentActions: z.array(z.object({ action: z.string(), app: z.string() }).loose()).nullish(),
        })
        .loose(),
);

const writeAnswerSchema = z.object({ deploymentId: z.string(), version: z.string() }).loose();

const lockSchema = z
    .object({ message: z.string().nullish(), deployments: z.array(z.object({ id: z.string() }).loose()).nullish() })
    .loose();

/** An app as GET /v2/apps?embed=apps.tasks shows it (v0.14.2 and v1.1.1 AppInfo, V2AppDefinition's versionInfo). */
const appStatusSchema = z
    .object({
        apps: z.array(
            z
                .object({
                    id: z.string(),
                    instances: z.number(),
                    version: z.string().nullish(),
                    versionInfo: z.object({ lastConfigChangeAt: z.string() }).loose().nullish(),
                    tasks: z
                        .array(z.object({ version: z.string(), startedAt: z.string().nullish() }).loose())
                        .nullish(),
                    deployments: z.array(z.object({ id: z.string() }).loose()).nullish(),
                })
                .loose(),
        ),
    })
    .loose();

const transientStatuses = [502, 503, 504];

/** One client per operation: its deadline bounds every retry and wait the operation makes. */
export class MarathonClient {
    private readonly deadline: number;
    private readonly firstPauseMs: number;
    private readonly maxPauseMs: number;

    constructor(
        private readonly endpoint: MarathonEndpoint,
        private readonly timing: MarathonTiming,
    ) {
        this.deadline = Date.now() + timing.timeoutSeconds * 1000;
        this.firstPauseMs = timing.firstPauseMs ?? 250;
        this.maxPauseMs = timing.maxPauseMs ?? 5000;
    }

    /** Where Marathon was reached, for errors: its address as the master sees it, and the SSH hop. */
    where(): string {
        return `Marathon ${this.endpoint.marathonHost}:${this.endpoint.marathonPort} via ${hostLabel(this.endpoint.host)}`;
    }

    private fail(what: string, response: HttpResponse): MarathonError {
        return new MarathonError(`${this.where()}: ${what}: HTTP ${response.status}: ${response.body.slice(0, 500)}`);
    }

    private remainingMs(): number {
        return this.deadline - Date.now();
    }

    /** One request, tried again while Marathon is unavailable (502/503/504, connection refused), until the deadline. */
    private async send(method: string, path: string, body: unknown, what: string): Promise<HttpResponse> {
        let pauseMs = this.firstPauseMs;
        for (;;) {
            let problem: string;
            try {
                const response = await httpOverSsh(this.endpoint.host, {
                    method,
                    path,
                    body: body === undefined ? undefined : JSON.stringify(body),
                    targetHost: this.endpoint.marathonHost,
                    targetPort: this.endpoint.marathonPort,
                });
                if (!transientStatuses.includes(response.status)) {
                    return response;
                }
                problem = `HTTP ${response.status}: ${response.body.slice(0, 200)}`;
            } catch (err) {
                if (!isForwardRefused(err)) {
                    throw err;
                }
                problem = (err as Error).message;
            }
            if (this.remainingMs() <= 0) {
                throw new MarathonError(
                    `${this.where()}: ${what}: Marathon stayed unavailable for ${this.timing.timeoutSeconds} s: ${problem}`,
                );
            }
            pulumi.log.info(
                `Marathon ${what}: unavailable (${problem}); trying again in ${Math.min(pauseMs, this.remainingMs())} ms`,
            );
            await sleep(Math.min(pauseMs, this.remainingMs()));
            pauseMs = Math.min(pauseMs * 2, this.maxPauseMs);
        }
    }

    /** The answer's body through its schema; any other shape is an error naming the request. */
    private parse<T>(schema: z.ZodType<T>, response: HttpResponse, what: string): T {
        let json: unknown;
        try {
            json = JSON.parse(response.body);
        } catch {
            throw new MarathonError(
                `${this.where()}: ${what}: HTTP ${response.status} with a body that is not JSON: ${response.body.slice(0, 200)}`,
            );
        }
        const parsed = schema.safeParse(json);
        if (!parsed.success) {
            const issues = parsed.error.issues
                .slice(0, 3)
                .map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`)
                .join("; ");
            throw new MarathonError(
                `${this.where()}: ${what}: unexpected answer (HTTP ${response.status}): ${issues}: ${response.body.slice(0, 200)}`,
            );
        }
        return parsed.data;
    }

    /** The group with its whole subtree (apps and groups, recursively), or undefined when it does not exist. */
    async group(id: string): Promise<MarathonGroupJson | undefined> {
        // v1.1.1 embeds subgroups only when asked (GroupsResource.group, InfoEmbedResolver); v0.14.2 always does
        const what = `GET group ${id}`;
        const response = await this.send("GET", `/v2/groups${id}?embed=group.groups&embed=group.apps`, undefined, what);
        if (response.status === 404) {
            return undefined;
        }
        if (response.status !== 200) {
            throw this.fail(what, response);
        }
        return this.parse(groupSchema, response, what);
    }

    async deployments(): Promise<DeploymentJson[]> {
        const what = "GET /v2/deployments";
        const response = await this.send("GET", "/v2/deployments", undefined, what);
        if (response.status !== 200) {
            throw this.fail(what, response);
        }
        return this.parse(deploymentsSchema, response, what);
    }

    private describe(deployment: DeploymentJson): string {
        const actions =
            (deployment.currentActions ?? []).map((a) => `${a.action} ${a.app}`).join(", ") || "no current action";
        return `${deployment.id} at step ${deployment.currentStep ?? "?"}/${deployment.totalSteps ?? "?"} (${actions})`;
    }

    /** Polls until none of `ids` is listed; past the deadline the error shows where each deployment stands. */
    async waitForDeployments(ids: string[], what: string, forced = false): Promise<void> {
        let pauseMs = Math.min(this.firstPauseMs, 200);
        for (;;) {
            const pending = (await this.deployments()).filter((d) => ids.includes(d.id));
            if (pending.length === 0) {
                return;
            }
            if (this.remainingMs() <= 0) {
                throw new MarathonError(
                    `${this.where()}: ${what}: deployment not finished within ${this.timing.timeoutSeconds} s: ` +
                        `${pending.map((d) => this.describe(d)).join("; ")}${forced ? "" : `; ${forceHint}`}`,
                );
            }
            pulumi.log.info(
                `Marathon ${what}: waiting for deployment ${pending.map((d) => this.describe(d)).join("; ")}`,
            );
            await sleep(Math.min(pauseMs, this.remainingMs()));
            pauseMs = Math.min(pauseMs * 2, 2000);
        }
    }

    /**
     * Sends a write; on 409 (locked) waits for the listed deployments, or pauses when none is listed, and tries again.
     */
    private async writeThroughLocks(
        method: "PUT" | "DELETE",
        path: string,
        body: unknown,
        what: string,
    ): Promise<WriteAnswer | undefined> {
        let pauseMs = this.firstPauseMs;
        for (;;) {
            const response = await this.send(method, path, body, what);
            if (response.status === 200 || response.status === 201 || response.status === 202) {
                return this.parse(writeAnswerSchema, response, what);
            }
            if (method === "DELETE" && response.status === 404) {
                return undefined;
            }
            if (response.status !== 409) {
                throw this.fail(what, response);
            }
            const lock = this.parse(lockSchema, response, what);
            const listed = (lock.deployments ?? []).map((d) => d.id);
            const running =
                listed.length > 0
                    ? (await this.deployments()).filter((d) => listed.includes(d.id)).map((d) => d.id)
                    : [];
            if (running.length > 0) {
                await this.waitForDeployments(running, `${what} (locked by another deployment)`);
                continue;
            }
            if (this.remainingMs() <= 0) {
                throw new MarathonError(
                    `${this.where()}: ${what}: still locked (HTTP 409) after ${this.timing.timeoutSeconds} s with ` +
                        `${listed.length > 0 ? `only finished deployments listed (${listed.join(", ")})` : "no deployment listed"}: ` +
                        `a scale or a task kill holds the lock (${lock.message ?? "no message"}); ${forceHint}`,
                );
            }
            pulumi.log.info(
                `Marathon ${what}: locked with no running deployment listed; trying again in ${Math.min(pauseMs, this.remainingMs())} ms`,
            );
            await sleep(Math.min(pauseMs, this.remainingMs()));
            pauseMs = Math.min(pauseMs * 2, this.maxPauseMs);
        }
    }

    /**
     * PUTs the group, waits for its deployment, then for every app to run its instances on tasks of its current
     * version: an unchanged PUT (say, a create tried again after a timeout) plans nothing, and a deployment not
     * listed yet looks finished while the old tasks still run, so neither the answer nor the listing proves anything.
     */
    async putGroup(
        id: string,
        body: { apps: { id: string; instances?: number }[] },
        force: boolean,
    ): Promise<WriteAnswer> {
        const what = `PUT ${id}`;
        const answer = (await this.writeThroughLocks(
            "PUT",
            `/v2/groups${id}${force ? "?force=true" : ""}`,
            body,
            what,
        ))!;
        await this.waitForDeployments([answer.deploymentId], what, force);
        await this.waitUntilRunning(id, body.apps, what, force);
        return answer;
    }

    /**
     * DELETE ?force=true of the group (the caller has checked that the stack owns all of it); waits for the deployment.
     */
    async deleteGroup(id: string, force: boolean): Promise<void> {
        const what = `DELETE ${id}`;
        const answer = await this.writeThroughLocks(
            "DELETE",
            `/v2/groups${id}${force ? "?force=true" : ""}`,
            undefined,
            what,
        );
        if (answer !== undefined) {
            await this.waitForDeployments([answer.deploymentId], what, force);
        }
    }

    /**
     * What is wrong with each app of the group, or nothing when every one runs its instances and no deployment remains.
     */
    private async appProblems(
        groupId: string,
        apps: { id: string; instances?: number }[],
        what: string,
    ): Promise<string[]> {
        // GET /v2/apps embeds deployments, and with embed=apps.tasks the tasks, in v0.14.2 and v1.1.1 alike
        // (AppsResource.index, AppInfoEmbedResolver); `id` filters by substring, so the answer is narrowed here
        const response = await this.send(
            "GET",
            `/v2/apps?id=${encodeURIComponent(`${groupId}/`)}&embed=apps.tasks`,
            undefined,
            `${what}: GET /v2/apps`,
        );
        if (response.status !== 200) {
            throw this.fail(`${what}: GET /v2/apps`, response);
        }
        const live = this.parse(appStatusSchema, response, `${what}: GET /v2/apps`).apps;
        return apps.flatMap((app) => {
            const id = app.id.startsWith("/") ? app.id : `${groupId}/${app.id}`;
            const found = live.find((candidate) => candidate.id === id);
            if (found === undefined) {
                return [`app ${id} is not there`];
            }
            // a task runs the configuration of the app's version when it started, and a scale keeps the configuration
            // (v0.14.2 GroupVersioningUtil: versionInfo.lastConfigChangeAt); an app without versionInfo has its
            // version, and one without either counts every task
            const current = Date.parse(found.versionInfo?.lastConfigChangeAt ?? found.version ?? "");
            const tasks = found.tasks ?? [];
            const ofCurrent = tasks.filter((task) => !(Date.parse(task.version) < current));
            const running = ofCurrent.filter((task) => task.startedAt).length;
            const older = tasks.length - ofCurrent.length;
            const problems: string[] = [];
            if (running < found.instances) {
                problems.push(
                    `app ${id}: ${running} of ${found.instances} tasks of its current version running ` +
                        `(${ofCurrent.length - running} staged)`,
                );
            }
            if (older > 0) {
                problems.push(`app ${id}: ${older} tasks of an earlier version still there`);
            }
            if ((found.deployments ?? []).length > 0) {
                problems.push(
                    `app ${id}: deployment ${(found.deployments ?? []).map((d) => d.id).join(", ")} still in progress`,
                );
            }
            return problems;
        });
    }

    async waitUntilRunning(
        groupId: string,
        apps: { id: string; instances?: number }[],
        what: string,
        forced = false,
    ): Promise<void> {
        let pauseMs = Math.min(this.firstPauseMs, 200);
        for (;;) {
            const problems = await this.appProblems(groupId, apps, what);
            if (problems.length === 0) {
                return;
            }
            if (this.remainingMs() <= 0) {
                throw new MarathonError(
                    `${this.where()}: ${what}: the group's apps are not running within ${this.timing.timeoutSeconds} s: ` +
                        `${problems.join("; ")}${forced ? "" : `; ${forceHint}`}`,
                );
            }
            pulumi.log.info(`Marathon ${what}: waiting for the apps to run: ${problems.join("; ")}`);
            await sleep(Math.min(pauseMs, this.remainingMs()));
            pauseMs = Math.min(pauseMs * 2, 2000);
        }
    }
}
