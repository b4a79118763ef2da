package io.backbeatserverless.localstack;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * Hands local-s3's router a request body in one heap buffer instead of netty's pooled 8 KiB chunks.
 *
 * <p>Two faults of local-s3's request decoder (netty-http-router's {@code HttpRequestDecoder}) make this worth a
 * handler. It collects a body into a {@code CompositeByteBuf} with netty's default of 16 components, so every 16th
 * chunk it copies everything received so far into one buffer: a body of n bytes costs O(n²/128 KiB) of copying.
 * Measured here: a 64 MiB part took 5 s (13 MB/s), nearly all of the server's CPU in that copy. And it retains each
 * chunk and never releases the body, which is the direct-memory leak per PUT this stack has had to size around.
 *
 * <p>Placed right after netty's HTTP decoder, this handler copies each chunk once into a heap buffer sized from
 * {@code Content-Length}, releases the pooled chunk at once, and passes the body on as one last chunk, which the
 * router's decoder adds as a single component. What the router then fails to release is a heap buffer, which the
 * garbage collector takes back. A body must fit in one buffer (2 GiB): larger objects go in multipart uploads, as
 * S3 clients send anything big.
 */
final class RequestBodyCoalescer extends ChannelInboundHandlerAdapter {

    private static final int UNKNOWN_LENGTH_START = 8 * 1024;

    private long contentLength = -1;
    private ByteBuf body;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            release();
            contentLength = HttpUtil.getContentLength(request, -1L);
            ctx.fireChannelRead(msg);
            return;
        }
        if (msg instanceof HttpContent content) {
            try {
                ByteBuf chunk = content.content();
                if (chunk.isReadable()) {
                    if (body == null) {
                        body = Unpooled.buffer(contentLength > 0 ? (int) Math.min(contentLength, Integer.MAX_VALUE - 8)
                                : Math.max(UNKNOWN_LENGTH_START, chunk.readableBytes()));
                    }
                    body.writeBytes(chunk);
                }
                if (content instanceof LastHttpContent last) {
                    LastHttpContent whole = new DefaultLastHttpContent(body != null ? body : Unpooled.EMPTY_BUFFER);
                    whole.trailingHeaders().set(last.trailingHeaders());
                    body = null;
                    ctx.fireChannelRead(whole);
                }
            } finally {
                content.release();
            }
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        release();
        super.channelInactive(ctx);
    }

    private void release() {
        if (body != null) {
            body.release();
            body = null;
        }
    }
}
