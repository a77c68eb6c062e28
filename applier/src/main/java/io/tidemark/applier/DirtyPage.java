package io.tidemark.applier;

import java.util.List;

/**
 * Dirty document keys of one namespace as a head view saw them, in key order, with their documents
 * at the view's instant ({@code documents.get(i)} null: the document was deleted). Keys are head
 * document keys; compare them only with other keys of the same head encoding.
 */
public record DirtyPage(List<byte[]> keys, List<byte[]> documents) {
    public boolean isEmpty() {
        return keys.isEmpty();
    }

    /** The last key, to ask for the next page after it. */
    public byte[] lastKey() {
        return keys.get(keys.size() - 1);
    }
}
