// A customTimeouts string as the engine reads it: time.ParseDuration, then Seconds() (pulumi/pulumi v3.248.0,
// pkg/resource/deploy/source_eval.go, generateTimeoutInSeconds), following Go's time/format.go (ParseDuration).

const secondsPerUnit: Record<string, number> = {
    ns: 1e-9,
    us: 1e-6,
    "\u00b5s": 1e-6,
    "\u03bcs": 1e-6,
    ms: 1e-3,
    s: 1,
    m: 60,
    h: 3600,
};

/** "1.5h", "10m30s", "300ms", "-2s", "0" in seconds; anything else throws Go's error. */
export function goDurationSeconds(text: string): number {
    const quoted = JSON.stringify(text);
    const sign = text.startsWith("-") ? -1 : 1;
    let rest = /^[-+]/.test(text) ? text.slice(1) : text;
    if (rest === "0") {
        return 0;
    }
    if (rest === "") {
        throw new Error(`time: invalid duration ${quoted}`);
    }
    let seconds = 0;
    while (rest !== "") {
        const [number, whole, fraction] = /^(\d*)(\.\d*)?/.exec(rest)!;
        if (whole === "" && (fraction ?? ".") === ".") {
            throw new Error(`time: invalid duration ${quoted}`);
        }
        const unit = /^[^\d.]*/.exec(rest.slice(number.length))![0];
        if (unit === "") {
            throw new Error(`time: missing unit in duration ${quoted}`);
        }
        if (!(unit in secondsPerUnit)) {
            throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
        }
        seconds += Number(`0${number}`) * secondsPerUnit[unit];
        rest = rest.slice(number.length + unit.length);
    }
    return sign * seconds;
}
