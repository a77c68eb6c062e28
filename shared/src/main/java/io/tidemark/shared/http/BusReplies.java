package io.tidemark.shared.http;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

/** How a request over the event bus that failed is answered by the REST API. */
public final class BusReplies {

    private BusReplies() {
    }

    /**
     * A refusal by the component keeps its status (a 4xx or 5xx it chose; anything else is 500);
     * nobody serving the address is a 503 saying {@code noHandler}; no answer in time a 504 saying
     * {@code timeout}. Other failures pass as they are.
     */
    public static Throwable asApiError(Throwable e, String noHandler, String timeout) {
        if (e instanceof ReplyException r) {
            if (r.failureType() == ReplyFailure.NO_HANDLERS) {
                return new ApiException(503, noHandler);
            }
            if (r.failureType() == ReplyFailure.TIMEOUT) {
                return new ApiException(504, timeout);
            }
            int code = r.failureCode();
            return new ApiException(code >= 400 && code < 600 ? code : 500, r.getMessage());
        }
        return e;
    }
}
