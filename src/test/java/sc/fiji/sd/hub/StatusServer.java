package sc.fiji.sd.hub;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;

import com.sun.net.httpserver.HttpServer;

/** A local server that answers every request with one status and no hub headers. */
final class StatusServer implements AutoCloseable {

	private final HttpServer server;

	StatusServer(int status) throws IOException {
		server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
		server.createContext("/", x -> {
			try (x) {
				x.sendResponseHeaders(status, -1);
			}
		});
		server.start();
	}

	String endpoint() { return "http://127.0.0.1:" + server.getAddress().getPort(); }

	@Override
	public void close() {
		server.stop(0);
	}
}
