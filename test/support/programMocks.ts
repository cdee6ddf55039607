// Pulumi mocks for the program: they record every registration (inputs and
// the URNs it depends on) and throw on a type the program should not create.
import type { PlainProperties } from "../../engine";
import * as pulumi from "@pulumi/pulumi";
import type { RegisterResourceRequest } from "@pulumi/pulumi/proto/resource_pb";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";

export interface Registration {
    type: string;
    name: string;
    inputs: PlainProperties;
    dependencies: string[];
    /** The URN given as deletedWith, or "". */
    deletedWith: string;
    /** customTimeouts as the engine gets them ("" where none). */
    customTimeouts?: { create: string; update: string; delete: string };
}

export const dynamicType = (name: string) => `pulumi-nodejs:dynamic/calico-stars:${name}`;

export class ProgramMocks implements pulumi.runtime.Mocks {
    readonly registrations: Registration[] = [];

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: PlainProperties } {
        const registration = this.registrations.find(
            (r) => r.name === args.name && r.type === args.type && r.inputs === undefined,
        );
        const inputs = args.inputs as PlainProperties;
        if (registration) {
            registration.inputs = inputs;
        } else {
            this.registrations.push({ type: args.type, name: args.name, inputs, dependencies: [], deletedWith: "" });
        }
        switch (args.type) {
            case "calico-stars:index:StarsDemo":
                return { id: undefined, state: {} };
            case "random:index/randomId:RandomId":
                return { id: "owner", state: { ...inputs, hex: "0a1b2c3d" } };
            case "command:remote:Command":
                return { id: `${args.name}-id`, state: { ...inputs, stdout: "", stderr: "" } };
            case dynamicType("DockerNetwork"):
                return { id: `id-${inputs.networkName}`, state: { ...inputs, networkId: `id-${inputs.networkName}` } };
            case dynamicType("MarathonGroupClaim"):
            case dynamicType("ProfileRules"):
            case dynamicType("IptablesDnat"):
            case dynamicType("MarathonGroup"):
            case dynamicType("VerifyPolicy"):
                return { id: `${args.name}-id`, state: { ...inputs } };
            default:
                throw new Error(`unexpected resource type ${args.type} (${args.name})`);
        }
    }

    call(args: pulumi.runtime.MockCallArgs): PlainProperties {
        throw new Error(`unexpected call ${args.token}`);
    }

    ofType(type: string): Registration[] {
        return this.registrations.filter((r) => r.type === type);
    }

    named(name: string): Registration {
        const found = this.registrations.find((r) => r.name === name);
        if (!found) {
            throw new Error(`no resource named ${name}; have ${this.registrations.map((r) => r.name).join(", ")}`);
        }
        return found;
    }
}

/**
 * The mocks API does not pass dependencies or deletedWith to newResource; the mock
 * monitor's request has them, so record them from there.
 */
export function recordDependencies(mocks: ProgramMocks): void {
    const original = MockMonitor.prototype.registerResource;
    MockMonitor.prototype.registerResource = function (
        req: RegisterResourceRequest,
        callback: Parameters<typeof original>[1],
    ) {
        const timeouts = req.getCustomtimeouts();
        mocks.registrations.push({
            type: req.getType(),
            name: req.getName(),
            inputs: undefined as unknown as PlainProperties,
            dependencies: req.getDependenciesList(),
            deletedWith: req.getDeletedwith(),
            customTimeouts: timeouts && {
                create: timeouts.getCreate(),
                update: timeouts.getUpdate(),
                delete: timeouts.getDelete(),
            },
        });
        return original.call(this, req, callback);
    };
}

/** Resolves an Output under mocks. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
}

/** Waits until no registration has arrived for a while: the mocks cannot tell when a program is done. */
export async function settled(mocks: ProgramMocks, quietMs = 200): Promise<void> {
    let seen = -1;
    while (seen !== mocks.registrations.length) {
        seen = mocks.registrations.length;
        await new Promise((resolve) => setTimeout(resolve, quietMs));
    }
}
