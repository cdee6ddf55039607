// What a valid value is, for the values both the program's config and the providers' Check see: each rule
// written once, with the message that says it.
import { z } from "zod";
import { isValidTag } from "./calico/rule";
import { isAddress, isIpv4 } from "./netAddress";

export const port = z.number().int("must be a whole number").min(1, "must be 1-65535").max(65535, "must be 1-65535");

export const address = z.string().refine(isAddress, "must be an IP address or a DNS name");

export const ipv4 = z.string().refine(isIpv4, "must be an IPv4 address");

/**
 * The key under which everything this stack makes carries its ownership id: a Docker network's driver option, a
 * Marathon app's label.
 */
export const ownerKey = "calico-stars.owner";

/** This stack's ownership id: the random hex every object it makes is marked with. */
export const ownerId = z.string().regex(/^[0-9a-f]{2,64}$/, "must be the stack's ownership id (hex)");

/** Linux refuses "/", ":" and white space in a name (dev_valid_name); ":" is only ifconfig's alias notation. */
export const interfaceName = z
    .string()
    .regex(
        /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/,
        "must be a Linux interface name (up to 15 letters, digits, _ . -, not starting with - or .)",
    );

/** A Docker network's name, which calico-libnetwork also makes the Calico tag of its profile. */
export const networkName = z
    .string()
    .max(64)
    .refine(
        isValidTag,
        "must be a Docker network name usable as a Calico tag (letters, digits, _ . -, not starting with - or .)",
    )
    // a tag may start with . or _, a Docker network name may not; a name that is no tag has been named already
    .refine((s) => !isValidTag(s) || /^[A-Za-z0-9]/.test(s), "must start with a letter or digit");

const marathonSegment = "[a-z0-9]([a-z0-9-]*[a-z0-9])?";
const marathonPath = new RegExp(`^${marathonSegment}(/${marathonSegment})*$`);
/**
 * Marathon routes `/v2/groups/<x>/apps` and `.../versions[/...]` to other listings (GroupsResource, v0.14.2 and
 * v1.1.1).
 */
const marathonReservedSegments = ["apps", "versions"];

function marathonPathProblem(path: string, form: string): string | undefined {
    if (!marathonPath.test(path)) {
        return `must be ${form}: lower-case letters, digits and -, segments separated by /`;
    }
    if (path.split("/").some((segment) => marathonReservedSegments.includes(segment))) {
        return (
            `must not contain a segment ${marathonReservedSegments.map((s) => `"${s}"`).join(" or ")}: ` +
            "Marathon routes /v2/groups/<id>/apps and /versions to other listings"
        );
    }
    return undefined;
}

function marathonPathSchema(absolute: boolean) {
    const form = absolute ? "an absolute Marathon path" : "a Marathon path without a leading slash";
    return z.string().superRefine((id, ctx) => {
        const problem =
            id.startsWith("/") === absolute
                ? marathonPathProblem(absolute ? id.slice(1) : id, form)
                : `must be ${form}`;
        if (problem !== undefined) {
            ctx.addIssue({ code: "custom", message: problem });
        }
    });
}

/** A Marathon group's path as the config writes it, without the leading slash ("calico-stars"). */
export const marathonGroupId = marathonPathSchema(false);

/** A Marathon group's id as Marathon writes it ("/calico-stars"). */
export const absoluteMarathonGroupId = marathonPathSchema(true);
