package sc.fiji.sd.bench;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Memory of this process as Linux and the JVM see it: resident set (VmRSS), its peak (VmHWM, which counts native
 * ONNX Runtime memory, the Java heap and direct buffers alike), and the Java heap. -1 where not available (not Linux).
 */
final class MemoryStats {

	private static final Path STATUS = Path.of("/proc/self/status");

	private MemoryStats() {}

	/** Current resident set size in bytes. */
	static long rss() {
		return statusBytes("VmRSS:");
	}

	/** Peak resident set size in bytes since the process started, or since {@link #resetPeak()}. */
	static long peakRss() {
		return statusBytes("VmHWM:");
	}

	/** Resets VmHWM to the current RSS (Linux ≥ 4.0: "5" to /proc/self/clear_refs); false where not possible. */
	static boolean resetPeak() {
		try {
			Files.writeString(Path.of("/proc/self/clear_refs"), "5");
			return true;
		}
		catch (IOException | RuntimeException e) {
			return false;
		}
	}

	/** Sum of the peak usages of the heap pools since the last {@link #resetHeapPeak()}. */
	static long heapPeak() {
		long sum = 0;
		for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
			if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) sum += p.getPeakUsage().getUsed();
		}
		return sum;
	}

	static void resetHeapPeak() {
		for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
			if (p.getType() == MemoryType.HEAP) p.resetPeakUsage();
		}
	}

	static long heapUsed() {
		return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
	}

	static long heapMax() {
		return Runtime.getRuntime().maxMemory();
	}

	/** Bytes held by direct NIO buffers (the tensors the pipeline reuses live there). */
	static long direct() {
		for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
			if (b.getName().equals("direct")) return b.getMemoryUsed();
		}
		return -1;
	}

	/** Bytes the current thread allocated on the Java heap so far (HotSpot), or -1. */
	static long threadAllocated() {
		var bean = ManagementFactory.getThreadMXBean();
		if (bean instanceof com.sun.management.ThreadMXBean hs && hs.isThreadAllocatedMemorySupported()) {
			return hs.getThreadAllocatedBytes(Thread.currentThread().getId());
		}
		return -1;
	}

	/**
	 * Polls /proc/self/status while open and keeps the largest anonymous (RssAnon: ONNX Runtime's allocations, the
	 * Java heap) and file-backed (RssFile: memory-mapped weight files, shared libraries; clean pages the kernel can drop
	 * and read again) resident sizes seen. VmHWM only knows their largest sum.
	 */
	static final class Sampler implements AutoCloseable {
		private final Thread thread;
		private volatile boolean running = true;
		volatile long maxAnon = -1, maxFile = -1;

		Sampler(long periodMillis) {
			thread = new Thread(() -> {
				while (running) {
					long anon = statusBytes("RssAnon:"), file = statusBytes("RssFile:");
					if (anon > maxAnon) maxAnon = anon;
					if (file > maxFile) maxFile = file;
					try {
						Thread.sleep(periodMillis);
					}
					catch (InterruptedException e) {
						return;
					}
				}
			}, "bench-memory-sampler");
			thread.setDaemon(true);
			thread.start();
		}

		@Override
		public void close() {
			running = false;
			thread.interrupt();
		}
	}

	/** Threads of the process, native ones included (ONNX Runtime's pools): "Threads:" of /proc/self/status; -1 if unknown. */
	static int threads() {
		try {
			for (String line : Files.readAllLines(STATUS)) {
				if (line.startsWith("Threads:")) return Integer.parseInt(line.substring(8).trim());
			}
		}
		catch (IOException | RuntimeException e) {
			// not Linux
		}
		return -1;
	}

	/** Open file descriptors of the process (entries of /proc/self/fd); -1 if unknown. */
	static int openFiles() {
		try (var fds = Files.list(Path.of("/proc/self/fd"))) {
			return (int) fds.count() - 1; // the listing's own descriptor
		}
		catch (IOException | RuntimeException e) {
			return -1;
		}
	}

	private static long statusBytes(String key) {
		return sc.fiji.sd.onnx.SystemMemory.status(key);
	}
}
