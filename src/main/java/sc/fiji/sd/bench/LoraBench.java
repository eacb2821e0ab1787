package sc.fiji.sd.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtSession;
import sc.fiji.sd.lora.LoraSet;
import sc.fiji.sd.lora.LoraSpec;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.ExecutionProviders.SessionMemory;
import sc.fiji.sd.onnx.RuntimeOptions;
import sc.fiji.sd.onnx.SessionFactory;

/**
 * The cost of a LoRA at session creation: read time, patch time per component, the size of the patched weights and
 * the extra peak resident memory, then the UNet session's creation time with and without the patched weights.
 * <pre>
 * java -cp target/classes:$(cat cp.txt) sc.fiji.sd.bench.LoraBench MODEL_DIR LORA.safetensors [WEIGHT]
 * </pre>
 */
public final class LoraBench {

	private LoraBench() {}

	public static void main(String[] args) throws Exception {
		Path model = Path.of(args[0]);
		LoraSpec spec = new LoraSpec(List.of(new LoraSpec.Entry(Path.of(args[1]), args.length > 2
			? Double.parseDouble(args[2]) : 1)));
		SessionFactory sessions = new SessionFactory(RuntimeOptions.DEFAULTS.withDevice(Device.CPU));
		Path unet = model.resolve("unet/model.onnx");

		long t0 = System.nanoTime();
		try (OrtSession plain = sessions.open(unet, SessionMemory.ARENA)) {
			print("UNet session without LoRA: %.1f s (load average %.1f)", seconds(t0), load());
		}
		long rssBefore = MemoryStats.rss();
		MemoryStats.resetPeak();
		t0 = System.nanoTime();
		long cpu0 = cpu();
		try (LoraSet set = new LoraSet(spec)) {
			print("LoRA read: %.1f s", seconds(t0));
			long patchedBytes = 0;
			Map<String, OnnxTensorLike> unetWeights = null;
			for (String component : new String[] { "text_encoder", "unet" }) {
				long t = System.nanoTime();
				Map<String, OnnxTensorLike> w = set.forComponent(component, model.resolve(component + "/model.onnx"));
				long bytes = 0;
				for (OnnxTensorLike x : w.values()) bytes += x.getInfo().getNumElements() * x.getInfo().type.size;
				patchedBytes += bytes;
				print("%s: %d weights patched (%.0f MB) in %.1f s (load average %.1f)", component, w.size(), bytes / 1e6,
					seconds(t), load());
				if (component.equals("unet")) unetWeights = w;
			}
			long extra = MemoryStats.peakRss() - rssBefore;
			print("patch time total (read + patch): %.1f s wall, %.1f s of CPU (load average %.1f); patched weights "
				+ "%.0f MB; extra peak RSS %.0f MB (%.2f × the patched weights; goal ≤ 1)", seconds(t0),
				(cpu() - cpu0) / 1e9, load(), patchedBytes / 1e6, extra / 1e6, (double) extra / patchedBytes);
			set.warnings().forEach(System.out::println);
			t0 = System.nanoTime();
			try (OrtSession patched = sessions.open(unet, SessionMemory.ARENA, unetWeights)) {
				print("UNet session with the patched weights: %.1f s; peak RSS now %.0f MB over the start (load average %.1f)",
					seconds(t0), (MemoryStats.peakRss() - rssBefore) / 1e6, load());
			}
		}
	}

	/** CPU time of the whole process (all threads), in ns. */
	private static long cpu() {
		return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
			.getOperatingSystemMXBean()).getProcessCpuTime();
	}

	private static double load() {
		return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
	}

	private static double seconds(long start) {
		return (System.nanoTime() - start) / 1e9;
	}

	private static void print(String format, Object... args) {
		System.out.println(String.format(Locale.ROOT, format, args));
	}
}
