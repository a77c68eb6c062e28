package io.tidemark.deploy;

/** A command failed for a reason the user can act on; printed without a stack trace. */
final class CliException extends RuntimeException {
    CliException(String message) {
        super(message);
    }
}
