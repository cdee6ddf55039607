// The sandbox daemons' command lines, read by Node's own parser: unknown flags and flags without a value are refused.
import { parseArgs, ParseArgsConfig } from "node:util";

type FlagOptions = NonNullable<ParseArgsConfig["options"]>;
type StrictConfig<T extends FlagOptions> = { args: string[]; options: T; strict: true; allowPositionals: false };
type Values<T extends FlagOptions> = ReturnType<typeof parseArgs<StrictConfig<T>>>["values"];
/** The flags' values, with those of `R` given for sure. */
type FlagValues<T extends FlagOptions, R extends keyof T> = Values<T> & {
    [K in R]-?: K extends keyof Values<T> ? NonNullable<Values<T>[K]> : never;
};

/**
 * `argv` read against `options` (util.parseArgs, strict); any error, and a missing flag of `required`, comes with
 * `usage`.
 */
export function readFlags<const T extends FlagOptions, const R extends keyof T & string = never>(
    argv: string[],
    options: T,
    usage: string,
    required: R[] = [],
): FlagValues<T, R> {
    let values: Values<T>;
    try {
        ({ values } = parseArgs<StrictConfig<T>>({ args: argv, options, strict: true, allowPositionals: false }));
    } catch (error) {
        throw new Error(`${error instanceof Error ? error.message : error}\n${usage}`, { cause: error });
    }
    for (const name of required) {
        if ((values as Record<string, unknown>)[name] === undefined) throw new Error(`--${name} is required\n${usage}`);
    }
    return values as FlagValues<T, R>;
}
