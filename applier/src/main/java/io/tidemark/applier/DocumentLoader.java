package io.tidemark.applier;

/**
 * Loads one namespace's documents into a head ({@link BulkLoader}, {@link SortedLoader}). Part of
 * the head's write path: one writer thread.
 */
public interface DocumentLoader extends AutoCloseable {

    /** The raw document at {@code buf[offset, offset + length)}; copied, the buffer may be reused. */
    void add(byte[] buf, int offset, int length);

    /** Makes everything added durable and returns how many documents were new to the head. */
    long finish();

    @Override
    void close();
}
