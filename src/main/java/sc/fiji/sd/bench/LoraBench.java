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
 * the extra peak resident memory, then the UNet session's creation time with and without the patched weights and one
 * UNet call's time on each (a patched session runs without prepacking; {@code -Dsize}, {@code -Dcalls}).
 * Last, the extra peak memory a user pays: two fresh processes each open the text encoder and UNet sessions and call
 * each once (which reads every weight), one without the LoRA and one with it (patch included), and their peak
 * resident sets (VmHWM) are compared; within one process the measure across the patch alone moves by ±5 % with what
 * the process freed before (glibc keeps it).
 * {@code -Dcomponents=unet} (or {@code text_encoder}) limits the two processes to one component.
 * <pre>
 * java -cp target/classes:$(cat cp.txt) sc.fiji.sd.bench.LoraBench MODEL_DIR LORA.safetensors [WEIGHT]
 * </pre>
 */
public final class LoraBench {

	private LoraBench() {}

	public static void main(String[] args) throws Exception {
		Path model = Path.of(args[0]);
		if (args[args.length - 1].equals("--peak-plain") || args[args.length - 1].equals("--peak-lora")) {
			peakOfOneProcess(model, args[args.length - 1].equals("--peak-lora") ? spec(args) : null);
			return;
		}
		LoraSpec spec = spec(args);
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
			Map<String, Long> bytesOf = new java.util.HashMap<>();
			Map<String, OnnxTensorLike> unetWeights = null;
			for (String component : new String[] { "text_encoder", "unet" }) {
				long t = System.nanoTime();
				Map<String, OnnxTensorLike> w = set.forComponent(component, model.resolve(component + "/model.onnx"));
				long bytes = 0;
				for (OnnxTensorLike x : w.values()) bytes += x.getInfo().getNumElements() * x.getInfo().type.size;
				patchedBytes += bytes;
				bytesOf.put(component, bytes);
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
				try (OrtSession plain = sessions.open(unet, SessionMemory.ARENA)) {
					compareSteps(plain, patched);
				}
			}
			comparePeaks(args, bytesOf);
		}
	}

	/**
	 * One UNet call (batch 1, {@code -Dsize} px, 512 by default), the plain session against the patched one, taken in
	 * turns after one warm-up call each: a patched session runs without prepacked weights (SessionFactory), which costs
	 * its MatMuls some speed.
	 */
	private static void compareSteps(OrtSession plain, OrtSession patched) throws Exception {
		int size = Integer.getInteger("size", 512), calls = Integer.getInteger("calls", 3);
		ConfigProbe shapes = new ConfigProbe(null, null, size, size, 0, System.out);
		Map<String, ai.onnxruntime.OnnxTensor> inputs = shapes.inputs(plain, "unet", 1, UnetMemoryProbe
			.crossAttentionWidth(plain));
		try {
			double[][] times = new double[2][calls];
			OrtSession[] sessions = { plain, patched };
			for (OrtSession s : sessions) s.run(inputs).close();
			for (int i = 0; i < calls; i++) {
				for (int k = 0; k < 2; k++) {
					long t = System.nanoTime();
					sessions[k].run(inputs).close();
					times[k][i] = seconds(t);
				}
			}
			double a = median(times[0]), b = median(times[1]);
			print("UNet call at %d×%d, batch 1, median of %d: %.2f s plain (prepacked), %.2f s patched (not "
				+ "prepacked): %+.1f %% (load average %.1f)", size, size, calls, a, b, 100 * (b / a - 1), load());
		}
		finally {
			inputs.values().forEach(ai.onnxruntime.OnnxTensor::close);
		}
	}

	private static double median(double[] v) {
		double[] s = v.clone();
		java.util.Arrays.sort(s);
		return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
	}

	private static LoraSpec spec(String[] args) {
		return new LoraSpec(List.of(new LoraSpec.Entry(Path.of(args[1]), args.length > 2 && !args[2].startsWith("--")
			? Double.parseDouble(args[2]) : 1)));
	}

	/**
	 * Peak resident memory of two fresh processes that open the text encoder and UNet sessions and run each once,
	 * without and with the LoRA: what using it costs at peak, compared with the patched weights' size.
	 */
	private static void comparePeaks(String[] args, Map<String, Long> bytesOf) throws Exception {
		String components = System.getProperty("components", "text_encoder,unet");
		long patched = 0;
		for (String c : components.split(",")) patched += bytesOf.getOrDefault(c, 0L);
		long plain = child(args, "--peak-plain"), lora = child(args, "--peak-lora");
		print("separate processes, %s sessions and one call of each: peak RSS %.0f MB without the LoRA, %.0f MB with "
			+ "it: extra %.0f MB (%.2f × their %.0f MB of patched weights; goal ≤ 1)", components, plain / 1e6,
			lora / 1e6, (lora - plain) / 1e6, (double) (lora - plain) / patched, patched / 1e6);
	}

	private static long child(String[] args, String mode) throws Exception {
		List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
			.toString(), "-Dcomponents=" + System.getProperty("components", "text_encoder,unet"), "-cp",
			System.getProperty("java.class.path"), LoraBench.class.getName()));
		command.addAll(List.of(args));
		command.add(mode);
		Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
		String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
		if (p.waitFor() != 0) throw new IllegalStateException(mode + " failed:\n" + out);
		for (String line : out.split("\n")) if (line.startsWith("peak ")) return Long.parseLong(line.substring(5).trim());
		throw new IllegalStateException(mode + " printed no peak:\n" + out);
	}

	/**
	 * One process's peak resident set after opening the text encoder and UNet sessions (with the LoRA if given) and
	 * calling each once.
	 */
	private static void peakOfOneProcess(Path model, LoraSpec spec) throws Exception {
		SessionFactory sessions = new SessionFactory(RuntimeOptions.DEFAULTS.withDevice(Device.CPU));
		String[] components = System.getProperty("components", "text_encoder,unet").split(",");
		try (LoraSet set = spec == null ? null : new LoraSet(spec)) {
			List<OrtSession> open = new java.util.ArrayList<>();
			try {
				for (String component : components) {
					Path file = model.resolve(component + "/model.onnx");
					Map<String, OnnxTensorLike> w = set == null ? Map.of() : set.forComponent(component, file);
					open.add(sessions.open(file, SessionMemory.ARENA, w));
				}
				// one call of each on the bench's synthetic inputs (64×64): a run reads every weight, the file's pages too
				ConfigProbe shapes = new ConfigProbe(null, null, 64, 64, 0, System.out);
				for (int i = 0; i < open.size(); i++) {
					OrtSession s = open.get(i);
					Map<String, ai.onnxruntime.OnnxTensor> inputs = shapes.inputs(s, components[i], 1,
						UnetMemoryProbe.crossAttentionWidth(s));
					try {
						s.run(inputs).close();
					}
					finally {
						inputs.values().forEach(ai.onnxruntime.OnnxTensor::close);
					}
				}
				System.out.println("peak " + MemoryStats.peakRss());
			}
			finally {
				for (OrtSession s : open) s.close();
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
