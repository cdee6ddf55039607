// Mesos agent stand-in for one sandbox agent (mesos/agent.ts): it runs in the agent's network namespace and in the
// mount namespace of the agent's sshd, so that it sees the agent's files as a session on the agent does (the
// collector's resources file lives in the agent's private /var/tmp), and starts containers on the agent's dockerd.
//   node sandbox/dist/mesosAgent.js --listen HOST:PORT --id AGENT_ID --docker-socket PATH --work-dir PATH
//     [--docker /usr/bin/docker] [--resources cpus:2;mem:1024;disk:10000] [--container-syn-retries N] [--log-file PATH]
// --container-syn-retries is the sandbox's, not Mesos': net.ipv4.tcp_syn_retries in each container's network
// namespace (mesos/synRetries.ts).
// HTTP: GET /state (and /state.json) as Mesos' agent answers it, GET /health, and what Marathon's master would
// send over libprocess: POST /_sandbox/tasks (a TaskInfo as JSON) and POST /_sandbox/tasks/<id>/kill.
import * as fs from "fs";
import * as http from "http";
import { readFlags } from "./lib/flags";
import { lineLog } from "./lib/log";
import type { TaskInfo } from "./mesos/protocol";
import { Agent } from "./mesos/agent";
import { isSynRetries } from "./mesos/synRetries";

const usageText =
    "usage: node sandbox/dist/mesosAgent.js --listen HOST:PORT --id AGENT_ID --docker-socket PATH --work-dir PATH" +
    " [--docker PATH] [--resources cpus:N;mem:MB;disk:MB] [--container-syn-retries N] [--log-file PATH]";
const maxBodyBytes = 1024 * 1024;

function parseArguments(argv: string[]) {
    const values = readFlags(
        argv,
        {
            listen: { type: "string" },
            id: { type: "string" },
            "docker-socket": { type: "string" },
            "work-dir": { type: "string" },
            docker: { type: "string" },
            resources: { type: "string" },
            "container-syn-retries": { type: "string" },
            "log-file": { type: "string" },
        },
        usageText,
        ["listen", "id", "docker-socket", "work-dir"],
    );
    const [host, port] = values.listen.split(":");
    const resources = { cpus: 2, mem: 1024, disk: 10000 };
    for (const entry of (values.resources ?? "").split(";").filter(Boolean)) {
        const [name, amount] = entry.split(":");
        if (!(name in resources) || !(Number(amount) >= 0)) throw new Error(`--resources: cannot read '${entry}'`);
        resources[name as keyof typeof resources] = Number(amount);
    }
    const synRetries = values["container-syn-retries"];
    if (synRetries !== undefined && !isSynRetries(synRetries)) {
        throw new Error(`--container-syn-retries: ${synRetries} is not a net.ipv4.tcp_syn_retries value (1 to 127)`);
    }
    return {
        host,
        port: Number(port),
        id: values.id,
        dockerSocket: values["docker-socket"],
        workDir: values["work-dir"],
        docker: values.docker ?? "/usr/bin/docker",
        resources,
        containerSynRetries: synRetries === undefined ? undefined : Number(synRetries),
        logFile: values["log-file"],
    };
}

function send(response: http.ServerResponse, status: number, json: unknown) {
    response.writeHead(status, { "Content-Type": "application/json" });
    response.end(json === undefined ? "" : JSON.stringify(json));
}

function requestListener(agent: Agent): http.RequestListener {
    return (request, response) => {
        let body = "";
        request.setEncoding("utf8");
        request.on("data", (chunk: string) => {
            body += chunk;
            if (body.length > maxBodyBytes) request.destroy();
        });
        request.on("end", () => {
            const url = new URL(request.url ?? "/", "http://agent");
            const kill = /^\/_sandbox\/tasks\/([^/]+)\/kill$/.exec(url.pathname);
            try {
                if (request.method === "GET" && (url.pathname === "/state" || url.pathname === "/state.json"))
                    return send(response, 200, agent.state());
                if (request.method === "GET" && url.pathname === "/health") return send(response, 200, undefined);
                if (request.method === "POST" && url.pathname === "/_sandbox/tasks") {
                    agent.launch(JSON.parse(body) as TaskInfo);
                    return send(response, 202, {});
                }
                if (request.method === "POST" && kill) {
                    agent.kill(decodeURIComponent(kill[1]));
                    return send(response, 202, {});
                }
                send(response, 404, { message: `No route for ${request.method} ${url.pathname}` });
            } catch (error) {
                send(response, 400, { message: error instanceof Error ? error.message : String(error) });
            }
        });
    };
}

function main() {
    const options = parseArguments(process.argv.slice(2));
    const log = lineLog(options.logFile);
    fs.mkdirSync(options.workDir, { recursive: true });
    const agent = new Agent({ ...options, hostname: options.host, log });
    const server = http.createServer(requestListener(agent));
    server.listen(options.port, options.host, () =>
        log(`mesos agent ${options.id} listening on ${options.host}:${options.port}`),
    );
    process.once("SIGTERM", () => {
        server.closeAllConnections();
        server.close(() => process.exit(0));
    });
}

try {
    main();
} catch (error) {
    console.error(`mesos-agent: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
}
