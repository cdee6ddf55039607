// Stand-ins for the provider plugins the test engine cannot run: @pulumi/random's
// RandomId and @pulumi/command's remote.Command. The command emulator runs the
// resource's commands over SSH with the program's own SSH layer, as the real
// plugin would run them over its own connection; it does not model the plugin's
// environment variables, `update` command, logging or dial retries.
import * as crypto from "crypto";
import type { ResourceEmulator } from "./engine";
import { runCommand, SshHost } from "../../components/ssh";

function hostOf(connection: { host: string; port?: number; user?: string }): SshHost {
    return { address: connection.host, port: connection.port ?? 22, user: connection.user ?? "root", sudo: false };
}

async function runOrFail(connection: any, script: string, stdin?: string): Promise<{ stdout: string; stderr: string }> {
    const result = await runCommand(hostOf(connection), { script }, { stdin });
    if (result.code !== 0) {
        throw new Error(`command exited ${result.code}: ${result.stderr}`);
    }
    return { stdout: result.stdout, stderr: result.stderr };
}

export const randomIdEmulator: ResourceEmulator = {
    async create(inputs) {
        const bytes = crypto.randomBytes(inputs.byteLength);
        return { id: bytes.toString("base64url"), outputs: { ...inputs, hex: bytes.toString("hex"), b64Url: bytes.toString("base64url"), b64Std: bytes.toString("base64"), dec: BigInt(`0x${bytes.toString("hex")}`).toString() } };
    },
    diff(olds, news) {
        const changed = olds.byteLength !== news.byteLength || olds.prefix !== news.prefix;
        return { changes: changed, replaces: changed ? ["byteLength"] : [] };
    },
};

export const remoteCommandEmulator: ResourceEmulator = {
    async create(inputs) {
        const output = await runOrFail(inputs.connection, inputs.create, inputs.stdin);
        return { id: `${inputs.connection.host}-${crypto.randomBytes(4).toString("hex")}`, outputs: { ...inputs, ...output } };
    },
    async update(_id, _olds, news) {
        return { ...news, ...(await runOrFail(news.connection, news.create, news.stdin)) };
    },
    async delete(_id, outputs) {
        if (outputs.delete) {
            await runOrFail(outputs.connection, outputs.delete);
        }
    },
    diff(olds, news) {
        const triggersChanged = JSON.stringify(olds.triggers) !== JSON.stringify(news.triggers);
        const changed = triggersChanged || ["create", "delete", "stdin", "connection"].some((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
        return { changes: changed, replaces: triggersChanged ? ["triggers"] : [] };
    },
};

export const emulators = {
    "random:index/randomId:RandomId": randomIdEmulator,
    "command:remote:Command": remoteCommandEmulator,
};
