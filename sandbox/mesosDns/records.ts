// Mesos-DNS v0.5.0's A records (mesosphere/mesos-dns v0.5.0 records/generator.go, InsertState), from the state the
// agents report (Mesos-DNS reads the same task JSON from the master's state.json, which gathers the agents'):
//   leader.<domain>, master.<domain>, master0.<domain>     the master;
//   slave.<domain>                                        each agent;
//   <framework>.<domain>                                  the framework's host (Marathon runs on the master);
//   <task>.<framework>.<domain>                           each TASK_RUNNING task's address, and
//   <task>-<hash>-<agent>.<framework>.<domain>            the same, canonical; both also under .slave.<domain>
//                                                         with the agent's address.
// <task> is the task's name through labels.RFC1123 (lower case; '.', '_' and '-' become '-'; other characters go;
// '-' trimmed from the ends; 63 characters at most): Marathon's `frontend.calico-stars` serves as
// `frontend-calico-stars`. The task's address comes from the IP sources netinfo, mesos, host in that order
// (records/state/state.go): the latest TASK_RUNNING status's container network_infos, else the agent's address.
// With `dottedTaskNames` (a sandbox option, off by default: Mesos-DNS has none) the dotted task name serves too.
import * as crypto from "crypto";
import type { TaskJson, TaskStatusJson } from "../mesos/protocol";

/** zbase32's alphabet (github.com/tv42/zbase32), which records.hashString uses. */
const zbase32Alphabet = "ybndrfg8ejkmcpqxot1uwisza345h769";

/** labels.RFC1123. */
export function rfc1123(name: string) {
    const mapped = [...name]
        .map((char) => {
            if (/[A-Z]/.test(char)) return char.toLowerCase();
            if (/[a-z0-9]/.test(char)) return char;
            return /[-._]/.test(char) ? "-" : "";
        })
        .join("");
    return mapped.replace(/^-+/, "").slice(0, 63).replace(/-+$/, "");
}

/** labels.DomainFrag: each dot-separated part through the label function, empty parts dropped. */
function domainFrag(name: string) {
    return name.split(".").map(rfc1123).filter(Boolean).join(".");
}

/**
 * The first `length` characters of zbase32(bytes): 5 bits each, most significant first. @param length at most
 * bytes.length * 8 / 5
 */
export function zbase32Head(bytes: Buffer, length: number) {
    let bits = "";
    for (const byte of bytes.subarray(0, Math.ceil((length * 5) / 8))) bits += byte.toString(2).padStart(8, "0");
    return Array.from(
        { length },
        (_, index) => zbase32Alphabet[parseInt(bits.slice(index * 5, index * 5 + 5), 2)],
    ).join("");
}

/** records.hashString: 5 characters of the zbase32-encoded SHA-1. */
export function hashString(text: string) {
    return zbase32Head(crypto.createHash("sha1").update(text).digest(), 5);
}

/** records.slaveIDTail. */
function slaveIdTail(slaveId: string) {
    return (slaveId.split("-").at(-1) ?? "").toLowerCase();
}

/** The address in the latest TASK_RUNNING status's network_infos. */
function networkInfoIp(statuses: TaskStatusJson[]): string | undefined {
    const running = statuses
        .filter((status) => status.state === "TASK_RUNNING")
        .sort((left, right) => right.timestamp - left.timestamp)[0];
    const infos = running?.container_status?.network_infos ?? [];
    return infos
        .flatMap((info) =>
            info.ip_addresses?.length ? info.ip_addresses.map((address) => address.ip_address) : [info.ip_address],
        )
        .find((ip) => typeof ip === "string" && ip !== "");
}

/** What Mesos-DNS reads of an agent's /state (mesos/protocol.ts AgentStateJson), read as leniently as it is. */
interface AgentTasks {
    frameworks?: { name?: string; executors?: { tasks?: Partial<TaskJson>[] }[] }[];
}

export interface RecordsInput {
    domain: string;
    /** The master's address. */
    master: string;
    agents: { state: AgentTasks; address: string }[];
    dottedTaskNames: boolean;
}

/** @returns fully qualified name (lower case, trailing dot) -> addresses */
export function generateRecords(input: RecordsInput): Map<string, string[]> {
    const records = new Map<string, string[]>();
    const tail = `.${input.domain}.`;
    const insert = (name: string, address: string | undefined) => {
        if (!address) return;
        const key = name.toLowerCase();
        const addresses = records.get(key) ?? [];
        if (!addresses.includes(address)) records.set(key, [...addresses, address]);
    };
    for (const name of ["leader", "master", "master0"]) insert(`${name}${tail}`, input.master);
    insert(`ns1${tail}`, input.master);
    for (const { state, address } of input.agents) {
        insert(`slave${tail}`, address);
        for (const framework of state.frameworks ?? []) {
            const frameworkName = domainFrag(String(framework.name ?? ""));
            insert(`${frameworkName}${tail}`, input.master);
            const tasks = (framework.executors ?? []).flatMap((executor) => executor.tasks ?? []);
            for (const task of tasks.filter((candidate) => candidate.state === "TASK_RUNNING")) {
                const taskName = rfc1123(String(task.name));
                const taskIp = networkInfoIp(task.statuses ?? []) ?? address;
                const canonical = `${taskName}-${hashString(String(task.id))}-${slaveIdTail(String(task.slave_id))}.${frameworkName}`;
                const names = [`${taskName}.${frameworkName}`, canonical];
                if (input.dottedTaskNames) names.push(`${String(task.name).toLowerCase()}.${frameworkName}`);
                for (const name of names) {
                    insert(`${name}${tail}`, taskIp);
                    insert(`${name}.slave${tail}`, address);
                }
            }
        }
    }
    return records;
}
