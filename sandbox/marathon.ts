// Marathon v0.14.2 stand-in for the sandbox cluster and the tests: the v2 API for groups, apps, tasks and
// deployments (marathon/api.ts), deployments that run real tasks on the Mesos agent stand-ins (marathon/tasks.ts,
// marathon/deployments.ts), and fault switches under /_sandbox/faults (marathon/faults.ts).
//   node sandbox/dist/marathon.js --listen HOST:PORT [--agent http://HOST:5051 ...] [--deploy-delay-ms N] [--state-file PATH]
//     [--log-file PATH] [--offer-interval-ms N]
// Without --agent, one simulated agent keeps the books of tasks that run nothing (for API tests only).
import { once } from "events";
import * as fs from "fs";
import * as http from "http";
import { text } from "stream/consumers";
import { readFlags } from "./lib/flags";
import { lineLog } from "./lib/log";
import { HttpAgent, SimulatedAgent } from "./marathon/agents";
import { Marathon } from "./marathon/api";
import type { Reply } from "./marathon/replies";
import { handle } from "./marathon/routes";

const defaultDeployDelayMs = 0;
/** Mesos 0.28's master allocates every second (--allocation_interval); a quarter of that keeps tests brisk. */
const defaultOfferIntervalMs = 250;
const maxPollIntervalMs = 250;
/** The framework id Mesos gave Marathon; constant, as Marathon keeps it in ZooKeeper across restarts. */
const marathonFrameworkId = "20160101-000000-184600330-5050-1-0000";

export interface MarathonOptions {
    /** `host:port`; port 0 picks a free one. */
    listen: string;
    /** A deployment lasts at least this long. */
    deployDelayMs?: number;
    /** Where the groups and apps are kept across restarts. */
    stateFile?: string;
    /** One JSON line per request. */
    logFile?: string;
    /** The Mesos agents' URLs; without any, one simulated agent. */
    agents?: string[];
    offerIntervalMs?: number;
    /** How long a simulated agent's task takes to run. */
    simulatedTaskStartMs?: number;
    verbose?: boolean;
}

export interface RunningMarathon {
    port: number;
    close(): Promise<void>;
}

/** @param listen `host:port`, IPv6 hosts in brackets */
function parseListen(listen: string): { host: string; port: number } {
    const separator = listen.lastIndexOf(":");
    const host = listen.slice(0, separator).replace(/^\[(.*)\]$/, "$1");
    const port = Number(listen.slice(separator + 1));
    if (separator < 0 || host === "" || !Number.isInteger(port) || port < 0 || port > 65535) {
        throw new Error(`--listen expects host:port, got '${listen}'`);
    }
    return { host, port };
}

function send(response: http.ServerResponse, reply: Reply): void {
    const isText = reply.text !== undefined;
    response.writeHead(reply.status, {
        "Content-Type": reply.contentType ?? (isText ? "text/plain" : "application/json"),
        ...reply.headers,
    });
    response.end(isText ? reply.text : JSON.stringify(reply.json));
}

function appendLog(logFile: string, method: string, url: URL, status: number): void {
    const entry = {
        ts: new Date().toISOString(),
        method,
        path: url.pathname,
        status,
        ...(url.search ? { query: url.search.slice(1) } : {}),
    };
    fs.appendFileSync(logFile, JSON.stringify(entry) + "\n");
}

function requestListener(marathon: Marathon, logFile: string | undefined): http.RequestListener {
    return (incoming, response) => {
        text(incoming).then(
            (body) => {
                const url = new URL(incoming.url ?? "/", "http://marathon");
                const method = incoming.method ?? "GET";
                const reply = handle(marathon, { method, pathname: url.pathname, query: url.searchParams, body });
                // Logged before answering so that whoever got the answer finds its line.
                if (logFile) appendLog(logFile, method, url, reply.status);
                send(response, reply);
            },
            () => response.destroy(),
        );
    };
}

export async function startMarathon(options: MarathonOptions): Promise<RunningMarathon> {
    const { host, port } = parseListen(options.listen);
    const agents =
        (options.agents ?? []).length > 0
            ? (options.agents ?? []).map((url) => new HttpAgent(url))
            : [new SimulatedAgent(options.simulatedTaskStartMs ?? 0)];
    const marathon = new Marathon({
        deployDelayMs: options.deployDelayMs ?? defaultDeployDelayMs,
        stateFile: options.stateFile,
        agents,
        frameworkId: marathonFrameworkId,
        offerIntervalMs: options.offerIntervalMs ?? defaultOfferIntervalMs,
        pollIntervalMs: Math.min(maxPollIntervalMs, options.offerIntervalMs ?? maxPollIntervalMs),
        log: options.verbose ? lineLog() : () => undefined,
    });
    const server = http.createServer(requestListener(marathon, options.logFile));
    server.listen(port, host);
    await once(server, "listening");
    const address = server.address();
    return {
        port: typeof address === "object" && address !== null ? address.port : port,
        close: () => closeServer(server, marathon),
    };
}

function closeServer(server: http.Server, marathon: Marathon): Promise<void> {
    marathon.stop();
    return new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Idle keep-alive connections would otherwise hold close() open.
        server.closeAllConnections();
    });
}

const usageText =
    "usage: node sandbox/dist/marathon.js --listen HOST:PORT [--agent URL ...] [--deploy-delay-ms N] [--state-file PATH]" +
    " [--log-file PATH] [--offer-interval-ms N]";

function parseArguments(argv: string[]): MarathonOptions {
    const values = readFlags(
        argv,
        {
            listen: { type: "string" },
            agent: { type: "string", multiple: true },
            "deploy-delay-ms": { type: "string" },
            "offer-interval-ms": { type: "string" },
            "state-file": { type: "string" },
            "log-file": { type: "string" },
        } as const,
        usageText,
        ["listen"],
    );
    const number = (flag: "deploy-delay-ms" | "offer-interval-ms", fallback: number) => {
        const value = Number(values[flag] ?? fallback);
        if (!Number.isFinite(value) || value < 0) throw new Error(`--${flag} expects a number >= 0`);
        return value;
    };
    return {
        listen: values.listen,
        agents: values.agent ?? [],
        deployDelayMs: number("deploy-delay-ms", defaultDeployDelayMs),
        offerIntervalMs: number("offer-interval-ms", defaultOfferIntervalMs),
        stateFile: values["state-file"],
        logFile: values["log-file"],
        verbose: true,
    };
}

async function main(): Promise<void> {
    const options = parseArguments(process.argv.slice(2));
    const starting = startMarathon(options);
    // Installed before listening, and idempotent, so that no signal finds Node's default handler (exit 143).
    let stopping: Promise<void> | undefined;
    const shutDown = () => {
        stopping ??= starting.then((server) => server.close()).then(() => process.exit(0));
    };
    process.on("SIGTERM", shutDown);
    process.on("SIGINT", shutDown);
    const server = await starting;
    console.log(`marathon listening on ${parseListen(options.listen).host}:${server.port}`);
}

if (require.main === module) {
    main().catch((error) => {
        console.error(`marathon: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(2);
    });
}
