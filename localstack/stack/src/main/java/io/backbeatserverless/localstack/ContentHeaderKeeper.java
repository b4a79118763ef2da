package io.backbeatserverless.localstack;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Makes local-s3 keep what S3 keeps of an object's standard headers. local-s3 2.4 stores Content-Type and user
 * metadata only: Cache-Control, Content-Disposition, Content-Encoding, Content-Language and Expires are dropped on
 * PUT, and an object put without Content-Type answers {@code content-type: null}. So tests claiming those headers
 * travel compared null with null (issue 14). Between netty's HTTP codec and local-s3's router, this handler:
 * <ul>
 *   <li>on an object write (PUT, copy with {@code REPLACE}, multipart creation) stores each of those headers as
 *       user metadata under {@link #PREFIX}, which local-s3 keeps, copies and returns, and gives an object written
 *       without a Content-Type S3's default, {@code binary/octet-stream};</li>
 *   <li>on every response, turns that metadata back into the header and removes it, so no client sees it.</li>
 * </ul>
 * The SDK's {@code aws-chunked} content encoding describes the request body, not the object: S3 does not store it,
 * nor does this handler. Chosen over the other local servers measured (docs/local-runs.md#the-local-s3-servers).
 */
final class ContentHeaderKeeper extends ChannelDuplexHandler {

    static final String PREFIX = "x-amz-meta-local-s3-keeps-";
    private static final List<String> KEPT = List.of("cache-control", "content-disposition", "content-encoding", "content-language", "expires");
    private static final String DEFAULT_CONTENT_TYPE = "binary/octet-stream";

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof HttpRequest request && writesAnObject(request)) {
            HttpHeaders headers = request.headers();
            for (String name : KEPT) {
                String value = headers.get(name);
                if (name.equals("content-encoding") && value != null) {
                    value = String.join(",", java.util.Arrays.stream(value.split(",")).map(String::trim)
                            .filter(e -> !e.equalsIgnoreCase("aws-chunked") && !e.isEmpty()).toList());
                }
                if (value != null && !value.isEmpty()) {
                    headers.set(PREFIX + name, value);
                }
            }
            String type = headers.get("content-type");
            if (type == null || type.isBlank()) {
                headers.set("content-type", DEFAULT_CONTENT_TYPE);
            }
        }
        super.channelRead(ctx, msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof HttpResponse response) {
            HttpHeaders headers = response.headers();
            for (Map.Entry<String, String> header : List.copyOf(headers.entries())) {
                String name = header.getKey().toLowerCase(Locale.ROOT);
                if (name.startsWith(PREFIX)) {
                    headers.remove(header.getKey());
                    headers.set(name.substring(PREFIX.length()), header.getValue());
                }
            }
            if ("null".equals(headers.get("content-type"))) {
                headers.set("content-type", DEFAULT_CONTENT_TYPE);
            }
        }
        super.write(ctx, msg, promise);
    }

    /** PUT of an object (not a part, tags, ACL), a copy that replaces the metadata, or a multipart upload's creation. */
    private static boolean writesAnObject(HttpRequest request) {
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        String path = uri.path().startsWith("/") ? uri.path().substring(1) : uri.path();
        if (path.indexOf('/') < 0) {
            return false; // a bucket
        }
        var params = uri.parameters().keySet();
        if (request.method().equals(HttpMethod.POST)) {
            return params.contains("uploads");
        }
        if (!request.method().equals(HttpMethod.PUT) || params.stream().anyMatch(p -> List.of("uploadId", "partNumber", "tagging", "acl",
                "retention", "legal-hold").contains(p))) {
            return false;
        }
        return !request.headers().contains("x-amz-copy-source")
                || "REPLACE".equalsIgnoreCase(request.headers().get("x-amz-metadata-directive"));
    }
}
