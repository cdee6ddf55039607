// The Mesos-DNS stand-in's records (sandbox/mesosDns/records.ts) against Mesos-DNS v0.5.0's rules: labels.RFC1123,
// hashString's zbase32 (vectors from tv42/zbase32's tests), and the names a running task gets.
import * as assert from "assert";

import { generateRecords, hashString, rfc1123, zbase32Head } from "../../sandbox/mesosDns/records";

function agentState(tasks: object[]) {
    return { frameworks: [{ name: "marathon", executors: tasks.map((task) => ({ tasks: [task] })) }] };
}

const running = {
    id: "calico-stars_frontend.0f6a0b52-64b8-4a1e-9d49-4b2d21b7f0b3",
    name: "frontend.calico-stars",
    slave_id: "20160101-000000-184600330-5050-1-S1",
    state: "TASK_RUNNING",
    statuses: [
        { state: "TASK_STAGING", timestamp: 1 },
        {
            state: "TASK_RUNNING",
            timestamp: 2,
            container_status: {
                network_infos: [{ ip_address: "192.168.0.7", ip_addresses: [{ ip_address: "192.168.0.7" }] }],
            },
        },
    ],
};

describe("Mesos-DNS stand-in records", function () {
    it("maps a task name as labels.RFC1123: lower case, '.' and '_' to '-', others dropped, '-' trimmed, 63 at most", function () {
        assert.deepStrictEqual(
            [rfc1123("frontend.calico-stars"), rfc1123("-My_App!.x-"), rfc1123("a".repeat(70)).length],
            ["frontend-calico-stars", "my-app-x", 63],
        );
    });

    it("encodes zbase32 as tv42/zbase32 does", function () {
        assert.deepStrictEqual(
            [zbase32Head(Buffer.from([0xc0, 0x73, 0x62, 0x4a]), 5), zbase32Head(Buffer.from([240, 191, 199]), 4)],
            ["ab3sr", "6n9h"],
        );
        assert.match(hashString("anything"), /^[ybndrfg8ejkmcpqxot1uwisza345h769]{5}$/);
    });

    it("gives a running task its hyphenated name and the canonical one, both with its container's address, and .slave ones with the agent's", function () {
        const records: Map<string, string[]> = generateRecords({
            domain: "mesos",
            master: "10.197.0.11",
            dottedTaskNames: false,
            agents: [{ address: "10.197.0.13", state: agentState([running]) }],
        });
        const canonical = `frontend-calico-stars-${hashString(running.id)}-s1.marathon.mesos.`;
        assert.deepStrictEqual(
            [
                records.get("frontend-calico-stars.marathon.mesos."),
                records.get(canonical),
                records.get("frontend-calico-stars.marathon.slave.mesos."),
                records.get("frontend.calico-stars.marathon.mesos."),
            ],
            [["192.168.0.7"], ["192.168.0.7"], ["10.197.0.13"], undefined],
        );
        assert.deepStrictEqual(
            [records.get("leader.mesos."), records.get("slave.mesos."), records.get("marathon.mesos.")],
            [["10.197.0.11"], ["10.197.0.13"], ["10.197.0.11"]],
        );
    });

    it("serves the dotted name too only when asked for, and nothing for a task that is not running", function () {
        const staged = {
            ...running,
            id: "calico-stars_client.1",
            name: "client.calico-stars",
            state: "TASK_STAGING",
            statuses: [{ state: "TASK_STAGING", timestamp: 1 }],
        };
        const records: Map<string, string[]> = generateRecords({
            domain: "mesos",
            master: "10.197.0.11",
            dottedTaskNames: true,
            agents: [{ address: "10.197.0.13", state: agentState([running, staged]) }],
        });
        assert.deepStrictEqual(
            [records.get("frontend.calico-stars.marathon.mesos."), records.get("client-calico-stars.marathon.mesos.")],
            [["192.168.0.7"], undefined],
        );
    });
});
