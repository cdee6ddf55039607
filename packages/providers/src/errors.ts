// The program's errors, one class per kind of failure, so that a message says what failed and a caller can
// tell the kinds apart.

/** The base class: each kind names itself after its class. */
class CalicoStarsError extends Error {
    constructor(message: string) {
        super(message);
        this.name = new.target.name;
    }
}

/** SSH itself: connecting, logging in, the host key, opening a channel, a timeout, too much output. */
export class SshError extends CalicoStarsError {}

/** A remote command ran and exited non-zero (or printed what the program cannot read). */
export class RemoteCommandError extends CalicoStarsError {}

/** Marathon answered with an error, an unexpected shape, or did not finish in time. */
export class MarathonError extends CalicoStarsError {}

/** Something on the cluster was not made by this stack, and the program refuses to touch it. */
export class OwnershipError extends CalicoStarsError {}

/** The stack configuration, or a resource's inputs, are invalid. */
export class ConfigError extends CalicoStarsError {}

/** A rule outside calicoctl 0.x's grammar. */
export class RuleSyntaxError extends CalicoStarsError {}

/** What verify was given or read cannot be evaluated (a policy, a group, a collector's answer). */
export class VerifyInputError extends CalicoStarsError {}

/** The policy's observed effect differs from the declared one (the VerifyPolicy resource, `npm run verify`). */
export class PolicyVerificationError extends CalicoStarsError {}
