// The program's errors, one class per kind of failure, so that a message says
// what failed (the connection, a remote command, Marathon, an ownership check,
// the configuration) and a caller can tell them apart.
//
// Pulumi's closure serializer turns `super(message)` into `Error.call(this, message)`, which sets nothing on
// `this`; so, for the provider host, every constructor sets its message and name itself.

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
