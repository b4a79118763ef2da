package io.backbeatserverless.localstack;

import com.robothy.netty.initializer.HttpServerInitializer;
import com.robothy.s3.rest.LocalS3;
import com.robothy.s3.rest.bootstrap.LocalS3Mode;
import com.robothy.s3.rest.handler.LocalS3RouterFactory;
import com.robothy.s3.rest.service.ServiceFactory;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;

/**
 * An S3-compatible server (io.github.robothy:local-s3-rest, in memory) bound to one address, keeping the
 * standard content headers local-s3 alone would drop ({@link ContentHeaderKeeper}).
 * local-s3's own {@code LocalS3.start()} binds every interface and has no host option, so this class
 * builds the same netty server around local-s3's router and services but binds the address given.
 * The only non-public piece it uses is {@code LocalS3.createServiceFactory()}, reached by reflection
 * (pinned to local-s3-rest 2.4; a version bump that renames it fails loudly at start).
 *
 * <p>Run as its own JVM by {@link S3ServerProcess}: it prints {@code READY <port>} once listening,
 * reports heap and direct memory every minute (local-s3 keeps objects on the heap and leaks direct
 * memory per PUT, so an operator must see it coming), and exits when its standard input closes,
 * so it never outlives the stack that started it.
 */
public final class LoopbackS3Server {

    private LoopbackS3Server() {
    }

    public static void main(String[] args) throws Exception {
        String host = args.length > 1 ? args[1] : "127.0.0.1";
        int port = Integer.parseInt(args[0]);
        String name = args.length > 2 ? args[2] : "s3";
        // With a queue URL, the server sends S3 event notifications for every bucket to that SQS queue.
        S3EventNotifier notifier = args.length > 3 ? new S3EventNotifier(args[3], host, port) : null;

        LocalS3 config = LocalS3.builder().mode(LocalS3Mode.IN_MEMORY).port(port).build();
        Method factoryMethod = LocalS3.class.getDeclaredMethod("createServiceFactory");
        factoryMethod.setAccessible(true);
        ServiceFactory services = (ServiceFactory) factoryMethod.invoke(config);

        var router = LocalS3RouterFactory.create(services);
        int cores = Runtime.getRuntime().availableProcessors();
        NioEventLoopGroup parent = new NioEventLoopGroup(1);
        NioEventLoopGroup child = new NioEventLoopGroup(cores);
        DefaultEventLoopGroup executor = new DefaultEventLoopGroup(Math.max(4, cores * 2));
        Channel channel = new ServerBootstrap()
                .group(parent, child)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        channel.pipeline().addLast(new HttpServerInitializer(executor, router));
                        channel.pipeline().addAfter("http-response-encoder", "content-header-keeper", new ContentHeaderKeeper());
                        if (notifier != null) {
                            // Between netty's HTTP codec and local-s3's router: sees each request and its response.
                            channel.pipeline().addAfter("http-response-encoder", "s3-event-notifier", notifier.newHandler());
                        }
                    }
                })
                .bind(new InetSocketAddress(host, port)).sync().channel();
        System.out.println("READY " + ((InetSocketAddress) channel.localAddress()).getPort());
        System.out.flush();

        Thread reporter = Thread.ofPlatform().daemon().name("memory-report").start(() -> reportMemory(name));
        try {
            // Block until the parent closes our stdin (it stopped or died).
            while (System.in.read() >= 0) {
                // ignore input
            }
        } catch (IOException ignored) {
            // parent gone
        } finally {
            reporter.interrupt();
            channel.close().syncUninterruptibly();
            child.shutdownGracefully();
            parent.shutdownGracefully();
            executor.shutdownGracefully();
            if (notifier != null) {
                notifier.close();
            }
        }
        System.exit(0);
    }

    private static void reportMemory(String name) {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                return;
            }
            Runtime rt = Runtime.getRuntime();
            long direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                    .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
            System.out.printf("MEMORY %s heapUsedMiB=%d heapMaxMiB=%d directMiB=%d%n", name,
                    (rt.totalMemory() - rt.freeMemory()) >> 20, rt.maxMemory() >> 20, direct >> 20);
            System.out.flush();
        }
    }
}
