// The sandbox Marathon stand-in under test: the shapes of its replies as a client reads them, and a running instance
// per suite with the calls the tests make on it.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { paths } from "../../sandbox/lib/layout";
import { waitUntil } from "../../sandbox/lib/wait";
import { RunningMarathon, startMarathon } from "../../sandbox/marathon";

export { startMarathon };

export interface Reply<T> {
    status: number;
    headers: Headers;
    body: T;
}

export interface ChangeReply {
    version: string;
    deploymentId: string;
}

interface Action {
    action: string;
    app: string;
}

export interface Deployment {
    id: string;
    version: string;
    affectedApps: string[];
    steps: Action[][];
    currentActions: Action[];
    currentStep: number;
    totalSteps: number;
}

export interface App {
    id: string;
    instances: number;
    tasksRunning: number;
    tasksStaged: number;
    [field: string]: unknown;
}

export interface Task {
    id: string;
    appId: string;
    version: string;
    host: string;
    startedAt: string | null;
}

export interface Group {
    id: string;
    apps: App[];
    groups: Group[];
    dependencies: string[];
    version: string;
}

export interface Message {
    message: string;
    details?: { path: string; errors: string[] }[];
    deployments?: { id: string }[];
}

export const deployDelayMs = 50;
/** Offers come this often, and a simulated agent's task runs this long after its launch. */
export const offerIntervalMs = 20;
export const taskStartMs = 100;
export const probeCommand = "star-probe --http-port=9000";
const waitLimitMs = 2000;
/** The stand-in as the sandbox runs it: compiled. */
export const marathonScript = paths.marathonScript;

export async function call<T>(baseUrl: string, method: string, urlPath: string, body?: unknown): Promise<Reply<T>> {
    const response = await fetch(baseUrl + urlPath, {
        method,
        headers: { "Content-Type": "application/json" },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    const isJson = response.headers.get("content-type") === "application/json";
    return { status: response.status, headers: response.headers, body: (isJson ? JSON.parse(text) : text) as T };
}

export function probe(id: string, cmd = probeCommand) {
    return { id, cmd, cpus: 0.1, mem: 64 };
}

/** Waits, as briskly as the in-process stand-in answers, until `check` holds. */
export async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
    await waitUntil(what, check, { timeoutMs: waitLimitMs, pauseMs: 5 });
}

/** Starts a stand-in for the calling suite (before), resets its faults after each test and stops it (after). */
export function marathonStandinSuite() {
    const suite = { workDir: "", baseUrl: "", marathon: undefined as RunningMarathon | undefined };
    const api = <T>(method: string, urlPath: string, body?: unknown) => call<T>(suite.baseUrl, method, urlPath, body);
    const putGroup = (id: string, body: unknown, query = "") =>
        api<ChangeReply & Message>("PUT", `/v2/groups/${id}${query}`, body);
    const listDeployments = async () => (await api<Deployment[]>("GET", "/v2/deployments")).body;
    const isListed = async (deploymentId: string) => (await listDeployments()).some(({ id }) => id === deploymentId);
    const holdDeployments = () => api("POST", "/_sandbox/faults", { hangDeployments: true });

    async function waitUntilFinished(deploymentId: string): Promise<void> {
        await waitFor(`deployment ${deploymentId} to finish`, async () => !(await isListed(deploymentId)));
    }

    async function deployedGroup(
        id: string,
        apps: object[] = [probe("client"), probe("frontend")],
    ): Promise<ChangeReply> {
        const reply = await putGroup(id, { id, apps });
        assert.strictEqual(reply.status, 200);
        await waitUntilFinished(reply.body.deploymentId);
        return reply.body;
    }

    before(async function () {
        suite.workDir = fs.mkdtempSync(path.join(os.tmpdir(), "marathon-test-"));
        suite.marathon = await startMarathon({
            listen: "127.0.0.1:0",
            deployDelayMs,
            offerIntervalMs,
            simulatedTaskStartMs: taskStartMs,
            logFile: path.join(suite.workDir, "requests.jsonl"),
        });
        suite.baseUrl = `http://127.0.0.1:${suite.marathon.port}`;
    });

    afterEach(async function () {
        await api("DELETE", "/_sandbox/faults");
    });

    after(async function () {
        await suite.marathon?.close();
        fs.rmSync(suite.workDir, { recursive: true, force: true });
    });

    return { suite, api, putGroup, listDeployments, isListed, holdDeployments, waitUntilFinished, deployedGroup };
}
