package io.tidemark.shared.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;

/**
 * Registered for every test of the suite (by service loader, see junit-platform.properties):
 * fails a test during which a log line showed a blocked event loop or a secret. Lines logged
 * outside any test (class fixtures, or threads a finished class left running) fail the class.
 */
public final class LogWatchExtension implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, AfterAllCallback {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(LogWatchExtension.class);
    private static final String CLASS_FINDINGS = "findings";

    static {
        LogWatch.install();
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        classFindings(context).addAll(LogWatch.take());
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        classFindings(context.getParent().orElse(context)).addAll(LogWatch.take());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        AssertionError failure = LogWatch.failure("during " + context.getDisplayName(), LogWatch.take());
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        List<LogWatch.Finding> findings = classFindings(context);
        findings.addAll(LogWatch.take());
        AssertionError failure = LogWatch.failure("outside the tests of " + context.getDisplayName()
                + " (its fixtures, or threads left running before it)", findings);
        if (failure != null) {
            throw failure;
        }
    }

    @SuppressWarnings("unchecked")
    private static List<LogWatch.Finding> classFindings(ExtensionContext context) {
        return context.getStore(NAMESPACE).getOrComputeIfAbsent(CLASS_FINDINGS, k -> new ArrayList<LogWatch.Finding>(), List.class);
    }
}
