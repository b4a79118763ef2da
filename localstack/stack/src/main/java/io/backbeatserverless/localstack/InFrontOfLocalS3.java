package io.backbeatserverless.localstack;

import com.robothy.netty.http.HttpRequestHandler;
import com.robothy.netty.router.ExceptionHandler;
import com.robothy.netty.router.Route;
import com.robothy.netty.router.Router;

/**
 * A router in front of local-s3's: it decides {@link #match} itself and hands everything else (routes, the not-found
 * and exception handlers) to the router behind it.
 */
abstract class InFrontOfLocalS3 implements Router {

    protected final Router delegate;

    InFrontOfLocalS3(Router delegate) {
        this.delegate = delegate;
    }

    @Override
    public Router route(Route route) {
        delegate.route(route);
        return this;
    }

    @Override
    public Router notFound(HttpRequestHandler handler) {
        delegate.notFound(handler);
        return this;
    }

    @Override
    public Router staticResource(String path) {
        delegate.staticResource(path);
        return this;
    }

    @Override
    public <T extends Throwable> Router exceptionHandler(Class<T> type, ExceptionHandler<T> handler) {
        delegate.exceptionHandler(type, handler);
        return this;
    }

    @Override
    public ExceptionHandler<Throwable> findExceptionHandler(Class<? extends Throwable> type) {
        return delegate.findExceptionHandler(type);
    }
}
