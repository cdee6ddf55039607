// Mesos-DNS v0.5.0 stand-in on the master (mesosphere/mesos-dns v0.5.0 resolver/resolver.go): answers A queries
// under its domain from the records of mesosDns/records.ts, refreshed from the agents' state every
// --refresh-ms (Mesos-DNS refreshes every refreshSeconds, 60 by default; the sandbox does it quicker so that a
// task is resolvable soon after it runs). Over UDP and TCP, on --listen:--port.
//   - a name with records: its A records, authoritative, TTL 60 (config.TTL's default);
//   - a name under the domain without any: NXDOMAIN with the domain's SOA (handleEmpty), except an AAAA query for
//     a name that has A records, which is answered NOERROR without records;
//   - SOA and NS queries under the domain: the SOA / NS record of ns1.<domain>;
//   - any other domain: Mesos-DNS forwards to its resolvers (8.8.8.8 by default); nothing outside the sandbox is
//     reachable, so it answers REFUSED, as HandleNonMesos does when forwarding fails.
// HTTP on --http-port: GET /v1/version, GET /v1/hosts/<name> ([{"host", "ip"}], as the real API).
//   node sandbox/dist/mesosDns.js --listen ADDRESS --master ADDRESS --agent http://HOST:5051 ... [--port 53]
//     [--http-port 8123] [--domain mesos] [--refresh-ms 500] [--dotted-task-names] [--log-file PATH]
import * as dgram from "dgram";
import { once } from "events";
import * as http from "http";
import * as net from "net";
import * as dnsPacket from "dns-packet";
import { readFlags } from "./lib/flags";
import { httpRequest } from "./lib/http";
import { Log, lineLog } from "./lib/log";
import type { AgentStateJson } from "./mesos/protocol";
import { generateRecords } from "./mesosDns/records";

const ttlSeconds = 60;
const agentTimeoutMs = 2000;
const soaTimes = { refresh: 60, retry: 600, expire: 86400 };

interface Options {
    listen: string;
    master: string;
    /** The agents' URLs. */
    agents: string[];
    port: number;
    httpPort: number;
    domain: string;
    refreshMs: number;
    dottedTaskNames: boolean;
    logFile?: string;
}

function parseArguments(argv: string[]): Options {
    const usage =
        "usage: node sandbox/dist/mesosDns.js --listen ADDRESS --master ADDRESS [--agent URL ...] [--port N] [--http-port N]" +
        " [--domain NAME] [--refresh-ms N] [--dotted-task-names] [--log-file PATH]";
    const values = readFlags(
        argv,
        {
            listen: { type: "string" },
            master: { type: "string" },
            agent: { type: "string", multiple: true },
            port: { type: "string" },
            "http-port": { type: "string" },
            domain: { type: "string" },
            "refresh-ms": { type: "string" },
            "dotted-task-names": { type: "boolean" },
            "log-file": { type: "string" },
        } as const,
        usage,
        ["listen", "master"],
    );
    return {
        listen: values.listen,
        master: values.master,
        agents: values.agent ?? [],
        port: Number(values.port ?? 53),
        httpPort: Number(values["http-port"] ?? 8123),
        domain: (values.domain ?? "mesos").toLowerCase().replace(/\.$/, ""),
        refreshMs: Number(values["refresh-ms"] ?? 500),
        dottedTaskNames: values["dotted-task-names"] ?? false,
        logFile: values["log-file"],
    };
}

async function getJson(url: string): Promise<unknown> {
    return JSON.parse((await httpRequest(url, { timeout: agentTimeoutMs })).body);
}

class Resolver {
    /** Fully qualified name (lower case, trailing dot) -> addresses. */
    records = new Map<string, string[]>();
    private serial = Math.floor(Date.now() / 1000);
    /** agent url -> its last state, kept when an agent does not answer (Mesos-DNS keeps its old records then) */
    private readonly states = new Map<string, AgentStateJson>();

    constructor(
        private readonly options: Options,
        private readonly log: Log,
    ) {}

    async refresh(): Promise<void> {
        await Promise.all(
            this.options.agents.map(async (url) => {
                try {
                    this.states.set(url, (await getJson(`${url}/state`)) as AgentStateJson);
                } catch (error) {
                    this.log(
                        `cannot read ${url}/state: ${error instanceof Error ? error.message : error}; keeping its old records`,
                    );
                }
            }),
        );
        this.records = generateRecords({
            domain: this.options.domain,
            master: this.options.master,
            dottedTaskNames: this.options.dottedTaskNames,
            agents: [...this.states].map(([url, state]) => ({ state, address: new URL(url).hostname })),
        });
        this.serial = Math.floor(Date.now() / 1000);
    }

    private isOurs(name: string): boolean {
        const lower = name.toLowerCase().replace(/\.$/, "");
        return lower === this.options.domain || lower.endsWith(`.${this.options.domain}`);
    }

    private soa(name: string): dnsPacket.SoaAnswer {
        return {
            type: "SOA",
            name,
            ttl: ttlSeconds,
            class: "IN",
            data: {
                mname: `ns1.${this.options.domain}`,
                rname: `root.ns1.${this.options.domain}`,
                serial: this.serial,
                refresh: soaTimes.refresh,
                retry: soaTimes.retry,
                expire: soaTimes.expire,
                minimum: ttlSeconds,
            },
        };
    }

    answer(message: Buffer): Buffer | undefined {
        let query: dnsPacket.DecodedPacket;
        try {
            query = dnsPacket.decode(message);
        } catch {
            return undefined;
        }
        const question = query.questions?.[0];
        const response: Required<
            Pick<dnsPacket.Packet, "id" | "type" | "questions" | "answers" | "authorities" | "flags">
        > = {
            id: query.id ?? 0,
            type: "response",
            questions: query.questions ?? [],
            answers: [],
            authorities: [],
            flags: (dnsPacket.RECURSION_DESIRED & (query.flags ?? 0)) | dnsPacket.RECURSION_AVAILABLE,
        };
        if (question === undefined) return dnsPacket.encode({ ...response, flags: response.flags | 1 /* FORMERR */ });
        if (!this.isOurs(question.name))
            return dnsPacket.encode({ ...response, flags: response.flags | 5 /* REFUSED */ });
        response.flags |= dnsPacket.AUTHORITATIVE_ANSWER;
        const addresses = this.records.get(`${question.name.toLowerCase().replace(/\.$/, "")}.`) ?? [];
        // dns-packet decodes type 255 as "ANY", which its types leave out
        if (question.type === "A" || (question.type as string) === "ANY") {
            response.answers = addresses.map((data): dnsPacket.Answer => ({
                type: "A",
                name: question.name,
                ttl: ttlSeconds,
                class: "IN",
                data,
            }));
        }
        if (question.type === "SOA") response.answers = [this.soa(question.name)];
        if (question.type === "NS")
            response.answers = [
                { type: "NS", name: question.name, ttl: ttlSeconds, class: "IN", data: `ns1.${this.options.domain}` },
            ];
        if (response.answers.length === 0) {
            response.authorities = [this.soa(question.name)];
            const nameExists = addresses.length > 0 || ["SRV", "SOA", "NS"].includes(question.type);
            if (!nameExists) response.flags |= 3; // NXDOMAIN
        }
        const answered = response.answers.map((answer) => ("data" in answer ? String(answer.data) : "")).join(",");
        this.log(
            `${question.type} ${question.name}: ${answered || ((response.flags & 15) === 3 ? "NXDOMAIN" : "no records")}`,
        );
        return dnsPacket.encode(response);
    }
}

async function serveUdp(resolver: Resolver, address: string, port: number): Promise<dgram.Socket> {
    const socket = dgram.createSocket("udp4");
    socket.on("message", (message, remote) => {
        const reply = resolver.answer(message);
        if (reply) socket.send(reply, remote.port, remote.address);
    });
    socket.bind(port, address);
    await once(socket, "listening");
    return socket;
}

/** Each message framed by its 2-byte length (RFC 1035 4.2.2). */
async function serveTcp(resolver: Resolver, address: string, port: number): Promise<net.Server> {
    const server = net.createServer((connection) => {
        let buffered = Buffer.alloc(0);
        connection.on("data", (chunk: Buffer) => {
            buffered = Buffer.concat([buffered, chunk]);
            while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
                const length = buffered.readUInt16BE(0);
                const reply = resolver.answer(buffered.subarray(2, 2 + length));
                buffered = buffered.subarray(2 + length);
                if (reply) {
                    const framed = Buffer.alloc(2 + reply.length);
                    framed.writeUInt16BE(reply.length, 0);
                    reply.copy(framed, 2);
                    connection.write(framed);
                }
            }
        });
        connection.on("error", () => connection.destroy());
    });
    server.listen(port, address);
    await once(server, "listening");
    return server;
}

async function serveHttp(resolver: Resolver, address: string, port: number): Promise<http.Server> {
    const server = http.createServer((request, response) => {
        const url = new URL(request.url ?? "/", "http://mesos-dns");
        const host = /^\/v1\/hosts\/(.+)$/.exec(url.pathname);
        const send = (status: number, body: unknown) => {
            response.writeHead(status, { "Content-Type": "application/json" });
            response.end(JSON.stringify(body));
        };
        if (url.pathname === "/v1/version")
            return send(200, {
                Service: "Mesos-DNS",
                URL: "https://github.com/mesosphere/mesos-dns",
                Version: "v0.5.0",
            });
        if (host) {
            const name = `${decodeURIComponent(host[1]).toLowerCase().replace(/\.$/, "")}.`;
            const addresses = resolver.records.get(name) ?? [];
            return send(
                200,
                addresses.length > 0 ? addresses.map((ip) => ({ host: name, ip })) : [{ host: "", ip: "" }],
            );
        }
        send(404, { message: "not found" });
    });
    server.listen(port, address);
    await once(server, "listening");
    return server;
}

async function main(): Promise<void> {
    const options = parseArguments(process.argv.slice(2));
    const log = lineLog(options.logFile);
    const resolver = new Resolver(options, log);
    await resolver.refresh();
    let refreshing = false;
    setInterval(() => {
        if (refreshing) return;
        refreshing = true;
        resolver.refresh().finally(() => {
            refreshing = false;
        });
    }, options.refreshMs);
    await Promise.all([
        serveUdp(resolver, options.listen, options.port),
        serveTcp(resolver, options.listen, options.port),
        serveHttp(resolver, options.listen, options.httpPort),
    ]);
    log(
        `mesos-dns serving ${options.domain} on ${options.listen}:${options.port} (udp, tcp), http ${options.httpPort}`,
    );
    process.once("SIGTERM", () => process.exit(0));
}

main().catch((error) => {
    console.error(`mesos-dns: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
});
