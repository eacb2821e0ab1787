package sc.fiji.sd.onnx;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/** Memory as Linux reports it: what the system can still give, and this process's own figures. */
public final class SystemMemory {

	private SystemMemory() {}

	/** Memory the system can give without swapping: {@code MemAvailable} of /proc/meminfo, else the free physical memory. */
	public static long available() {
		try {
			for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
				if (line.startsWith("MemAvailable:")) {
					return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
				}
			}
		}
		catch (IOException | RuntimeException e) {
			// not Linux
		}
		if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
			return os.getFreeMemorySize();
		}
		return Long.MAX_VALUE;
	}

	/** A size in bytes of this process's /proc/self/status ({@code VmRSS:}, {@code VmHWM:}…), or -1 where unknown. */
	public static long status(String key) {
		try {
			for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
				if (line.startsWith(key)) {
					String[] parts = line.substring(key.length()).trim().split("\\s+");
					return Long.parseLong(parts[0]) * 1024; // kB
				}
			}
		}
		catch (IOException | RuntimeException e) {
			// not Linux
		}
		return -1;
	}
}
