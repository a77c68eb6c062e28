package io.tidemark.shared.testing;

import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.simple.SimpleServiceProvider;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tests' SLF4J provider (selected with {@code -Dslf4j.provider}): slf4j-simple, as in
 * production, with every logger wrapped so that messages at INFO and above are checked by
 * {@link LogWatch} even where a module's test logging configuration keeps them off the console.
 * Production logs at INFO, so a secret in an INFO line is a leak even if a test never prints it.
 */
public final class ScanningLoggerProvider implements SLF4JServiceProvider {

    private final SimpleServiceProvider simple = new SimpleServiceProvider();
    private final Map<String, Logger> loggers = new ConcurrentHashMap<>();
    private ILoggerFactory factory;

    @Override
    public ILoggerFactory getLoggerFactory() {
        return factory;
    }

    @Override
    public IMarkerFactory getMarkerFactory() {
        return simple.getMarkerFactory();
    }

    @Override
    public MDCAdapter getMDCAdapter() {
        return simple.getMDCAdapter();
    }

    @Override
    public String getRequestedApiVersion() {
        return simple.getRequestedApiVersion();
    }

    @Override
    public void initialize() {
        simple.initialize();
        ILoggerFactory printing = simple.getLoggerFactory();
        factory = name -> loggers.computeIfAbsent(name, n -> new ScanningLogger(printing.getLogger(n)));
    }
}
