// The program's errors, one class per kind of failure, so that a message says
// what failed (the connection, a remote command, Marathon, an ownership check,
// the configuration, the policy's observed effect) and a caller can tell them apart.
//
// Every constructor sets its message and name itself: Pulumi's closure serializer turns `super(message)` into
// `Error.call(this, message)`, which sets nothing on `this`, and the providers in a state written before they came
// from this package carry this code serialized.

/** SSH itself: connecting, logging in, the host key, opening a channel, a timeout, too much output. */
export class SshError extends Error {
    constructor(message: string) {
        super(message);
        this.message = message;
        this.name = "SshError";
    }
}

/** A remote command ran and exited non-zero (or printed what the program cannot read). */
export class RemoteCommandError extends Error {
    constructor(message: string) {
        super(message);
        this.message = message;
        this.name = "RemoteCommandError";
    }
}

/** Marathon answered with an error, an unexpected shape, or did not finish in time. */
export class MarathonError extends Error {
    constructor(message: string) {
        super(message);
        this.message = message;
        this.name = "MarathonError";
    }
}

/** Something on the cluster was not made by this stack, and the program refuses to touch it. */
export class OwnershipError extends Error {
    constructor(message: string) {
        super(message);
        this.message = message;
        this.name = "OwnershipError";
    }
}

/** The stack configuration, or a resource's inputs, are invalid. */
export class ConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.message = message;
        this.name = "ConfigError";
    }
}

/** The policy's observed effect differs from the declared one (the VerifyPolicy resource, `npm run verify`). */
export class PolicyVerificationError extends Error {
    constructor(message: string) {
        super(message);
        this.message = message;
        this.name = "PolicyVerificationError";
    }
}
