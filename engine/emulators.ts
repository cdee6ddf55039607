// Stand-ins for the provider plugins the test engine cannot run, by type token: @pulumi/command's remote.Command
// (remoteCommandEmulator.ts) and @pulumi/random's RandomId.
import * as crypto from "crypto";
import { remoteCommandEmulator } from "./remoteCommandEmulator";
import type { ResourceEmulator } from "./types";

function idOutputs(bytes: Buffer, prefix: string): Record<string, string> {
    return {
        b64Url: prefix + bytes.toString("base64url"),
        b64Std: prefix + bytes.toString("base64"),
        hex: prefix + bytes.toString("hex"),
        dec: prefix + BigInt(`0x${bytes.toString("hex")}`).toString(),
    };
}

/**
 * RandomId as pulumi-random 4.21 wraps it; byteLength, prefix and keepers replace (RequiresReplace,
 * RequiresReplaceIfValuesNotNull); the outputs are the bytes in base64url (the ID), and prefixed base64url, base64,
 * hex and decimal.
 * Follows hashicorp/terraform-provider-random v3.9.0, internal/provider/resource_id.go.
 */
const randomIdEmulator: ResourceEmulator = {
    async create(inputs) {
        const bytes = crypto.randomBytes(inputs.byteLength);
        return { id: bytes.toString("base64url"), outputs: { ...inputs, ...idOutputs(bytes, inputs.prefix ?? "") } };
    },
    diff(olds, news) {
        const replaces = ["byteLength", "prefix", "keepers"].filter(
            (key) => JSON.stringify(olds[key] ?? null) !== JSON.stringify(news[key] ?? null),
        );
        return { changes: replaces.length > 0, replaces };
    },
};

export const emulators = {
    "random:index/randomId:RandomId": randomIdEmulator,
    "command:remote:Command": remoteCommandEmulator,
};
