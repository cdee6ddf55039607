// @ts-check
"use strict";
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

const crypto = require("crypto");

/** zbase32's alphabet (github.com/tv42/zbase32), which records.hashString uses. */
const ZBASE32 = "ybndrfg8ejkmcpqxot1uwisza345h769";

/** labels.RFC1123. @param {string} name */
function rfc1123(name) {
    const mapped = [...name].map((char) => {
        if (/[A-Z]/.test(char)) return char.toLowerCase();
        if (/[a-z0-9]/.test(char)) return char;
        return /[-._]/.test(char) ? "-" : "";
    }).join("");
    return mapped.replace(/^-+/, "").slice(0, 63).replace(/-+$/, "");
}

/** labels.DomainFrag: each dot-separated part through the label function, empty parts dropped. @param {string} name */
function domainFrag(name) {
    return name.split(".").map(rfc1123).filter(Boolean).join(".");
}

/**
 * The first `length` characters of zbase32(bytes): 5 bits each, most significant first.
 * @param {Buffer} bytes @param {number} length at most bytes.length * 8 / 5
 */
function zbase32Head(bytes, length) {
    let bits = "";
    for (const byte of bytes.subarray(0, Math.ceil(length * 5 / 8))) bits += byte.toString(2).padStart(8, "0");
    return Array.from({ length }, (_, index) => ZBASE32[parseInt(bits.slice(index * 5, index * 5 + 5), 2)]).join("");
}

/** records.hashString: 5 characters of the zbase32-encoded SHA-1. @param {string} text */
function hashString(text) {
    return zbase32Head(crypto.createHash("sha1").update(text).digest(), 5);
}

/** records.slaveIDTail. @param {string} slaveId */
function slaveIdTail(slaveId) {
    return (slaveId.split("-").at(-1) ?? "").toLowerCase();
}

/**
 * @param {any[]} statuses
 * @returns {string | undefined} the address in the latest TASK_RUNNING status's network_infos
 */
function networkInfoIp(statuses) {
    const running = statuses.filter((status) => status.state === "TASK_RUNNING").sort((left, right) => right.timestamp - left.timestamp)[0];
    const infos = /** @type {any[]} */ (running?.container_status?.network_infos ?? []);
    return infos.flatMap((info) => (info.ip_addresses?.length ? info.ip_addresses.map((/** @type {any} */ a) => a.ip_address) : [info.ip_address]))
        .find((ip) => typeof ip === "string" && ip !== "");
}

/**
 * @param {{domain: string, master: string, agents: {state: any, address: string}[], dottedTaskNames: boolean}} input
 * @returns {Map<string, string[]>} fully qualified name (lower case, trailing dot) -> addresses
 */
function generateRecords(input) {
    /** @type {Map<string, string[]>} */
    const records = new Map();
    const tail = `.${input.domain}.`;
    const insert = (/** @type {string} */ name, /** @type {string | undefined} */ address) => {
        if (!address) return;
        const key = name.toLowerCase();
        const addresses = records.get(key) ?? [];
        if (!addresses.includes(address)) records.set(key, [...addresses, address]);
    };
    for (const name of ["leader", "master", "master0"]) insert(`${name}${tail}`, input.master);
    insert(`ns1${tail}`, input.master);
    for (const { state, address } of input.agents) {
        insert(`slave${tail}`, address);
        for (const framework of /** @type {any[]} */ (state.frameworks ?? [])) {
            const frameworkName = domainFrag(String(framework.name ?? ""));
            insert(`${frameworkName}${tail}`, input.master);
            const tasks = /** @type {any[]} */ ((framework.executors ?? []).flatMap((/** @type {any} */ executor) => executor.tasks ?? []));
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

module.exports = { generateRecords, rfc1123, hashString, zbase32Head };
