package io.backbeatserverless.localstack;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
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
 * usable), a share of connections reset (TCP RST, mid-request), and a share of requests held for a while before the
 * server sees them (a slow answer, past the client's timeouts when the delay is long enough). The shares are drawn from
 * a seeded random per request. Off until configured; reconfigured at run time from a line on the server's standard
 * input ({@link #configure}), so a harness can turn the faults on after setting up its buckets and off to let the
 * pipeline settle. Counts of what was injected are in {@link #report()}.
 */
final class FaultInjector {

    /** The shares, in percent of requests, and the delay of a held request. */
    record Plan(double slowDown, double internalError, double reset, double delayed, long delayMs, long seed) {
        static final Plan NONE = new Plan(0, 0, 0, 0, 0, 1);

        /**
         * Parses {@code 503=10 500=1 reset=5 delay=0.5 delay-ms=65000 seed=7} (any order, any subset; shares in
         * percent). {@code off} is no faults.
         */
        static Plan parse(String spec) {
            Map<String, String> values = new TreeMap<>();
            for (String part : spec.trim().split("[\\s,]+")) {
                if (part.isEmpty() || part.equals("off")) {
                    continue;
                }
                String[] kv = part.split("=", 2);
                if (kv.length != 2 || !List.of("503", "500", "reset", "delay", "delay-ms", "seed").contains(kv[0])) {
                    throw new IllegalArgumentException("fault '" + part + "': expected 503=P, 500=P, reset=P, delay=P, delay-ms=MS or seed=N");
                }
                values.put(kv[0], kv[1]);
            }
            Plan plan = new Plan(share(values, "503"), share(values, "500"), share(values, "reset"), share(values, "delay"),
                    Long.parseLong(values.getOrDefault("delay-ms", "0")), Long.parseLong(values.getOrDefault("seed", "1")));
            if (plan.slowDown + plan.internalError + plan.reset + plan.delayed > 100) {
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
            return slowDown + internalError + reset + delayed == 0;
        }

        String spec() {
            return String.format(Locale.ROOT, "503=%s 500=%s reset=%s delay=%s delay-ms=%d seed=%d", slowDown, internalError, reset, delayed,
                    delayMs, seed);
        }
    }

    private enum Fault { NONE, SLOW_DOWN, INTERNAL_ERROR, RESET, DELAY }

    private volatile Plan plan = Plan.NONE;
    private Random random = new Random(1);
    private final AtomicLong requests = new AtomicLong();
    private final Map<Fault, AtomicLong> injected = new java.util.EnumMap<>(Map.of(Fault.SLOW_DOWN, new AtomicLong(),
            Fault.INTERNAL_ERROR, new AtomicLong(), Fault.RESET, new AtomicLong(), Fault.DELAY, new AtomicLong()));

    synchronized void configure(Plan next) {
        random = new Random(next.seed());
        plan = next;
    }

    /** What was injected since the server started, for its log: {@code requests=N 503=a 500=b reset=c delayed=d}. */
    String report() {
        return String.format("requests=%d 503=%d 500=%d reset=%d delayed=%d (plan: %s)", requests.get(), injected.get(Fault.SLOW_DOWN).get(),
                injected.get(Fault.INTERNAL_ERROR).get(), injected.get(Fault.RESET).get(), injected.get(Fault.DELAY).get(), plan.spec());
    }

    private synchronized Fault draw() {
        Plan p = plan;
        requests.incrementAndGet();
        if (p.isOff()) {
            return Fault.NONE;
        }
        double r = random.nextDouble() * 100;
        Fault fault = r < p.slowDown ? Fault.SLOW_DOWN
                : r < p.slowDown + p.internalError ? Fault.INTERNAL_ERROR
                : r < p.slowDown + p.internalError + p.reset ? Fault.RESET
                : r < p.slowDown + p.internalError + p.reset + p.delayed ? Fault.DELAY : Fault.NONE;
        if (fault != Fault.NONE) {
            injected.get(fault).incrementAndGet();
        }
        return fault;
    }

    /** A handler for one connection; placed right after netty's HTTP codec, so an error answer is encoded by it. */
    ChannelInboundHandlerAdapter newHandler() {
        return new ChannelInboundHandlerAdapter() {
            private Fault current = Fault.NONE;
            private List<Object> held;

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof HttpRequest) {
                    current = draw();
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
                        answer(ctx, current, true);
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
                            answer(ctx, current, false);
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
                    case NONE -> ctx.fireChannelRead(msg);
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

    private static void answer(ChannelHandlerContext ctx, Fault fault, boolean close) {
        boolean slowDown = fault == Fault.SLOW_DOWN;
        String code = slowDown ? "SlowDown" : "InternalError";
        String message = slowDown ? "Please reduce your request rate." : "We encountered an internal error. Please try again.";
        ByteBuf body = Unpooled.copiedBuffer("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" + message
                + "</Message><RequestId>fault-injector</RequestId></Error>", StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                slowDown ? HttpResponseStatus.SERVICE_UNAVAILABLE : HttpResponseStatus.INTERNAL_SERVER_ERROR, body);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/xml").set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        if (close) {
            response.headers().set(HttpHeaderNames.CONNECTION, "close");
        }
        ctx.writeAndFlush(response).addListener(close ? ChannelFutureListener.CLOSE : ChannelFutureListener.CLOSE_ON_FAILURE);
    }
}
