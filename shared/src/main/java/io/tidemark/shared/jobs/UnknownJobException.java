package io.tidemark.shared.jobs;

/** No job has that id or deployment name. */
public class UnknownJobException extends RuntimeException {
    public UnknownJobException(String idOrName) {
        super("no job with id or name '" + idOrName + "'");
    }
}
