package io.backbeatserverless.localstack;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A destination that misbehaves the way S3 and busy gateways do, for the crash and fault matrix: a share of requests
 * answered {@code 503 SlowDown} or {@code 500 InternalError} (the request body is read and dropped, the connection stays
 * usable), a share of connections reset (TCP RST, mid-request), a share of requests held for a while before the
 * server sees them (a slow answer, past the client's timeouts when the delay is long enough), and a share of requests
 * done whose answers are lost (the connection reset instead of the answer); all requests, or one HTTP method's alone. The shares are drawn from
 * a seeded random per request. Off until configured; reconfigured at run time from a line on the server's standard
 * input ({@link #configure}), so a harness can turn the faults on after setting up its buckets and off to let the
 * pipeline settle. Counts of what was injected are in {@link #report()}.
 */
final class FaultInjector {

    /** The shares, in percent of requests, and the delay of a held request. */
    record Plan(double slowDown, double internalError, double reset, double delayed, double lost, long delayMs, String onlyMethod,
                long seed) {
        static final Plan NONE = new Plan(0, 0, 0, 0, 0, 0, null, 1);

        /**
         * Parses {@code 503=10 500=1 reset=5 delay=0.5 delay-ms=65000 lost=2 only=DELETE seed=7} (any order, any
         * subset; shares in percent). {@code lost}: the request is done, and its answer never arrives (the connection is
         * reset instead): what a client sees when a store or a network drops an answer, the one fault after which a
         * retry repeats work already done. {@code only}: faults for requests of this HTTP method alone. {@code off} is
         * no faults.
         */
        static Plan parse(String spec) {
            Map<String, String> values = new TreeMap<>();
            for (String part : spec.trim().split("[\\s,]+")) {
                if (part.isEmpty() || part.equals("off")) {
                    continue;
                }
                String[] kv = part.split("=", 2);
                if (kv.length != 2 || !List.of("503", "500", "reset", "delay", "lost", "delay-ms", "only", "seed").contains(kv[0])) {
                    throw new IllegalArgumentException("fault '" + part + "': expected 503=P, 500=P, reset=P, delay=P, lost=P, delay-ms=MS, only=METHOD or seed=N");
                }
                values.put(kv[0], kv[1]);
            }
            Plan plan = new Plan(share(values, "503"), share(values, "500"), share(values, "reset"), share(values, "delay"),
                    share(values, "lost"), Long.parseLong(values.getOrDefault("delay-ms", "0")),
                    values.containsKey("only") ? values.get("only").toUpperCase(Locale.ROOT) : null, Long.parseLong(values.getOrDefault("seed", "1")));
            if (plan.slowDown + plan.internalError + plan.reset + plan.delayed + plan.lost > 100) {
                throw new IllegalArgumentException("fault shares add up to more than 100 %: " + spec);
            }
            return plan;
        }

        private static double share(Map<String, String> values, String name) {
            double p = Double.parseDouble(values.getOrDefault(name, "0"));
            if (p < 0 || p > 100) {
                throw new IllegalArgumentException("fault share " + name + "=" + p + " is not a percentage");
            }
            return p;
        }

        boolean isOff() {
            return slowDown + internalError + reset + delayed + lost == 0;
        }

        String spec() {
            return String.format(Locale.ROOT, "503=%s 500=%s reset=%s delay=%s lost=%s delay-ms=%d%s seed=%d", slowDown, internalError, reset,
                    delayed, lost, delayMs, onlyMethod == null ? "" : " only=" + onlyMethod, seed);
        }
    }

    private enum Fault { NONE, SLOW_DOWN, INTERNAL_ERROR, RESET, DELAY, LOST }

    private volatile Plan plan = Plan.NONE;
    private Random random = new Random(1);
    private final AtomicLong requests = new AtomicLong();
    private final Map<Fault, AtomicLong> injected = new java.util.EnumMap<>(Map.of(Fault.SLOW_DOWN, new AtomicLong(),
            Fault.INTERNAL_ERROR, new AtomicLong(), Fault.RESET, new AtomicLong(), Fault.DELAY, new AtomicLong(), Fault.LOST, new AtomicLong()));

    synchronized void configure(Plan next) {
        random = new Random(next.seed());
        plan = next;
    }

    /** What was injected since the server started, for its log: {@code requests=N 503=a 500=b reset=c delayed=d lost=e}. */
    String report() {
        return String.format("requests=%d 503=%d 500=%d reset=%d delayed=%d lost=%d (plan: %s)", requests.get(), injected.get(Fault.SLOW_DOWN).get(),
                injected.get(Fault.INTERNAL_ERROR).get(), injected.get(Fault.RESET).get(), injected.get(Fault.DELAY).get(),
                injected.get(Fault.LOST).get(), plan.spec());
    }

    private synchronized Fault draw(HttpMethod method) {
        Plan p = plan;
        requests.incrementAndGet();
        if (p.isOff() || (p.onlyMethod() != null && !p.onlyMethod().equals(method.name()))) {
            return Fault.NONE;
        }
        double r = random.nextDouble() * 100;
        Fault fault = r < p.slowDown ? Fault.SLOW_DOWN
                : r < p.slowDown + p.internalError ? Fault.INTERNAL_ERROR
                : r < p.slowDown + p.internalError + p.reset ? Fault.RESET
                : r < p.slowDown + p.internalError + p.reset + p.delayed ? Fault.DELAY
                : r < p.slowDown + p.internalError + p.reset + p.delayed + p.lost ? Fault.LOST : Fault.NONE;
        if (fault != Fault.NONE) {
            injected.get(fault).incrementAndGet();
        }
        return fault;
    }

    /**
     * A handler for one connection; placed right after netty's HTTP codec, so an error answer is encoded by it, and an
     * answer to lose passes through it on its way out.
     */
    ChannelDuplexHandler newHandler() {
        return new ChannelDuplexHandler() {
            private Fault current = Fault.NONE;
            private boolean head;
            private List<Object> held;

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof HttpRequest request) {
                    current = draw(request.method());
                    head = HttpMethod.HEAD.equals(request.method());
                    if (current == Fault.RESET) {
                        ReferenceCountUtil.release(msg);
                        ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0); // close with RST, not FIN
                        ctx.close();
                        return;
                    }
                    if ((current == Fault.SLOW_DOWN || current == Fault.INTERNAL_ERROR) && HttpUtil.is100ContinueExpected((HttpRequest) msg)) {
                        // As a server refusing a request that waits for 100 Continue: answer now, send no 100, and
                        // close, since the client may still send the body.
                        ReferenceCountUtil.release(msg);
                        answer(ctx, current, head, true);
                        current = Fault.RESET; // drop whatever of the body still arrives
                        return;
                    }
                    if (current == Fault.DELAY) {
                        held = new ArrayList<>(List.of(msg));
                        long delay = plan.delayMs();
                        ctx.executor().schedule(() -> release(ctx), delay, TimeUnit.MILLISECONDS);
                        return;
                    }
                }
                switch (current) {
                    case RESET -> ReferenceCountUtil.release(msg);
                    case SLOW_DOWN, INTERNAL_ERROR -> {
                        boolean last = msg instanceof LastHttpContent;
                        ReferenceCountUtil.release(msg);
                        if (last) {
                            answer(ctx, current, head, false);
                            current = Fault.NONE;
                        }
                    }
                    case DELAY -> {
                        if (held != null) {
                            held.add(msg);
                        } else {
                            ctx.fireChannelRead(msg);
                        }
                    }
                    case NONE, LOST -> ctx.fireChannelRead(msg);
                }
            }

            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
                // A 100 Continue goes out: the body it asks for is part of the request, which is to be done.
                if (current != Fault.LOST || (msg instanceof HttpResponse response
                        && response.status().codeClass() == HttpStatusClass.INFORMATIONAL)) {
                    super.write(ctx, msg, promise);
                    return;
                }
                // The request was done; its answer is dropped and the connection reset, as a dying gateway would.
                boolean last = msg instanceof LastHttpContent;
                ReferenceCountUtil.release(msg);
                promise.trySuccess();
                if (last) {
                    current = Fault.NONE;
                    ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                    ctx.close();
                }
            }

            private void release(ChannelHandlerContext ctx) {
                List<Object> messages = held;
                held = null;
                if (messages == null) {
                    return;
                }
                if (!ctx.channel().isActive()) {
                    messages.forEach(ReferenceCountUtil::release);
                    return;
                }
                messages.forEach(ctx::fireChannelRead);
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) throws Exception {
                if (held != null) {
                    held.forEach(ReferenceCountUtil::release);
                    held = null;
                }
                super.channelInactive(ctx);
            }
        };
    }

    /**
     * The error answer, as S3 gives it. To a HEAD, headers only: a HEAD's answer has no body (RFC 9110), and the
     * encoder here does not know the request's method, so bytes written after the headers would stay on the connection
     * and be read as the start of the next answer (found by the chaos run: a client waited out its socket timeout).
     */
    private static void answer(ChannelHandlerContext ctx, Fault fault, boolean toHead, boolean close) {
        boolean slowDown = fault == Fault.SLOW_DOWN;
        String code = slowDown ? "SlowDown" : "InternalError";
        String message = slowDown ? "Please reduce your request rate." : "We encountered an internal error. Please try again.";
        ByteBuf body = Unpooled.copiedBuffer("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" + message
                + "</Message><RequestId>fault-injector</RequestId></Error>", StandardCharsets.UTF_8);
        int length = body.readableBytes();
        if (toHead) {
            body.release();
            body = Unpooled.EMPTY_BUFFER;
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                slowDown ? HttpResponseStatus.SERVICE_UNAVAILABLE : HttpResponseStatus.INTERNAL_SERVER_ERROR, body);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/xml").set(HttpHeaderNames.CONTENT_LENGTH, length);
        if (close) {
            response.headers().set(HttpHeaderNames.CONNECTION, "close");
        }
        ctx.writeAndFlush(response).addListener(close ? ChannelFutureListener.CLOSE : ChannelFutureListener.CLOSE_ON_FAILURE);
    }
}
