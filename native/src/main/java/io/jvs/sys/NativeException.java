package io.jvs.sys;

import java.io.IOException;

/** A failed system call: names the call, what it was for, and errno. */
public class NativeException extends IOException {
    private final int errno;

    public NativeException(String what, int errno) {
        super(what + ": " + Libc.strerror(errno) + " (errno " + errno + ")");
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
