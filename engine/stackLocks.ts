// The lock files of a stack on a file:// (diy) backend: up, refresh and destroy take one for their run, a run killed
// mid-way leaves its own, and a run that finds one is refused until `pulumi cancel` removes them all.
// Follows pulumi/pulumi v3.248.0, pkg/backend/diy/lock.go.
import { randomUUID } from "crypto";
import * as os from "os";

export interface StackLock {
    path: string;
    createdBy: string;
    pid: number;
    timestamp: string;
}

export class StackLocks {
    private readonly locks: StackLock[] = [];

    constructor(
        private readonly project: string,
        private readonly stack: string,
    ) {}

    get held(): boolean {
        return this.locks.length > 0;
    }

    /** A new lock file for a run, named as the diy backend names it. */
    take(): StackLock {
        const lock = {
            path: `file://~/.pulumi/locks/organization/${this.project}/${this.stack}/${randomUUID()}.json`,
            createdBy: `${os.userInfo().username}@${os.hostname()}`,
            pid: process.pid,
            timestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
        };
        this.locks.push(lock);
        return lock;
    }

    /** Removes a run's own lock, if it took one and `pulumi cancel` has not removed it already. */
    release(lock: StackLock | undefined): void {
        const at = lock === undefined ? -1 : this.locks.indexOf(lock);
        if (at >= 0) {
            this.locks.splice(at, 1);
        }
    }

    /** `pulumi cancel` (CancelCurrentUpdate): removes every lock file of the stack. */
    removeAll(): void {
        this.locks.splice(0);
    }

    /** diyBackend.checkForLock's error. */
    refusal(): string {
        return (
            `the stack is currently locked by ${this.locks.length} lock(s). Either wait for the other process(es) to end or delete the lock file with \`pulumi cancel\`.` +
            this.locks
                .map((lock) => `\n  ${lock.path}: created by ${lock.createdBy} (pid ${lock.pid}) at ${lock.timestamp}`)
                .join("")
        );
    }
}
