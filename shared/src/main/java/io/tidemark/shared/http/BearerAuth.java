package io.tidemark.shared.http;

import io.tidemark.shared.security.ApiKeys;
import io.tidemark.shared.security.AuthenticationException;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * Authenticates a request from its {@code Authorization: Bearer} header before any byte of its
 * body is read: it must run before the body handler. The request is paused while the key is
 * looked up, so its body stays in the socket (and the kernel's buffers) rather than the heap; a
 * request that fails is answered and its connection closed without reading the body (see
 * {@link ErrorResponses}). On success the {@link ApiKeys.Principal} is at {@link #PRINCIPAL}.
 */
public final class BearerAuth {

    /** Where the authenticated {@link ApiKeys.Principal} is put on the routing context. */
    public static final String PRINCIPAL = "principal";

    private BearerAuth() {
    }

    /**
     * @param what names the credential in the 401 message ("an agent API key")
     * @param onRejected counts a refusal (metrics); may be a no-op
     */
    public static Handler<RoutingContext> handler(ApiKeys keys, ApiKeys.Kind kind, String what, Runnable onRejected) {
        return ctx -> {
            ctx.request().pause();
            String header = ctx.request().getHeader("Authorization");
            if (header == null || !header.startsWith("Bearer ")) {
                onRejected.run();
                ctx.fail(new AuthenticationException(what + " is required (Authorization: Bearer <key>)"));
                return;
            }
            keys.authenticate(header.substring(7).trim(), kind).onComplete(ar -> {
                if (ar.succeeded()) {
                    ctx.put(PRINCIPAL, ar.result());
                    ctx.next();
                } else {
                    onRejected.run();
                    ctx.fail(ar.cause() instanceof AuthenticationException ? ar.cause()
                            : new IllegalStateException("the key store could not be read", ar.cause()));
                }
            });
        };
    }
}
