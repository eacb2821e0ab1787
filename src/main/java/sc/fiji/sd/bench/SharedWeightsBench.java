package sc.fiji.sd.bench;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtSession;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.ExecutionProviders.SessionMemory;
import sc.fiji.sd.onnx.OnnxEnvironment;
import sc.fiji.sd.onnx.OnnxGraph;
import sc.fiji.sd.onnx.RuntimeOptions;
import sc.fiji.sd.onnx.SessionFactory;

/**
 * Whether a UNet session can skip reading its weights when only the LoRA set changes: the cost of creating the UNet
 * session from the file, against creating it with every fp32 weight handed over as an initializer already in memory
 * (ONNX Runtime's {@code AddInitializer}, the buffers shared, not copied), twice in a row as a LoRA change would.
 * <pre>
 * java -cp target/classes:$(cat cp.txt) sc.fiji.sd.bench.SharedWeightsBench MODEL_DIR
 * </pre>
 */
public final class SharedWeightsBench {

	private SharedWeightsBench() {}

	public static void main(String[] args) throws Exception {
		Path unet = Path.of(args[0]).resolve("unet/model.onnx");
		SessionFactory sessions = new SessionFactory(RuntimeOptions.DEFAULTS.withDevice(Device.CPU).withOptimizedModels(
			null));
		long rss0 = MemoryStats.rss();
		long[] t = start();
		try (OrtSession plain = sessions.open(unet, SessionMemory.ARENA)) {
			report("UNet session from the file", t, rss0);
		}
		rss0 = MemoryStats.rss();
		t = start();
		Map<String, OnnxTensorLike> shared = new LinkedHashMap<>();
		long bytes = 0;
		for (OnnxGraph.Initializer init : OnnxGraph.read(unet).initializers().values()) {
			if (init.dataType() != OnnxGraph.FLOAT || init.elements() < 1024) continue;
			shared.put(init.name(), OnnxTensor.createTensor(OnnxEnvironment.get(), OnnxGraph.read(init), init.dims()));
			bytes += init.elements() * 4;
		}
		report(String.format(Locale.ROOT, "read %d weights (%.0f MB) into memory once", shared.size(), bytes / 1e6), t,
			rss0);
		for (int run = 1; run <= 2; run++) {
			long rss = MemoryStats.rss();
			t = start();
			try (OrtSession s = sessions.open(unet, SessionMemory.ARENA, shared)) {
				report("UNet session " + run + " with the weights in memory", t, rss);
			}
		}
		for (OnnxTensorLike x : shared.values()) ((OnnxTensor) x).close();
	}

	private static long[] start() {
		return new long[] { System.nanoTime(), cpu() };
	}

	private static void report(String what, long[] start, long rssBefore) {
		System.out.printf(Locale.ROOT, "%s: %.1f s wall, %.1f s CPU, RSS +%.0f MB (load average %.1f)%n", what,
			(System.nanoTime() - start[0]) / 1e9, (cpu() - start[1]) / 1e9, (MemoryStats.rss() - rssBefore) / 1e6,
			java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
	}

	private static long cpu() {
		return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
			.getOperatingSystemMXBean()).getProcessCpuTime();
	}
}
