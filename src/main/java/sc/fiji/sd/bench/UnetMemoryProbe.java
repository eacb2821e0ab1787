package sc.fiji.sd.bench;

import java.nio.file.Path;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import sc.fiji.sd.onnx.ExecutionProviders.SessionMemory;
import sc.fiji.sd.onnx.OnnxEnvironment;
import sc.fiji.sd.onnx.RuntimeOptions;
import sc.fiji.sd.onnx.SessionFactory;

/**
 * The peak resident memory of one UNet call, alone in its process: how PERFORMANCE.md's "SDXL memory" table was
 * measured on SDXL-shaped UNets of reduced depth ({@code tools/model/make_sdxl_memory.py}).
 * <p>
 * {@code java -cp target/stable-diffusion.jar sc.fiji.sd.bench.UnetMemoryProbe <model folder> <width> <height> <batch>
 * [component]}
 * opens {@code unet/model.onnx} as the model loader does (the default runtime options, through {@link SessionFactory},
 * with the CPU arena), makes one call on synthetic inputs of the image size's latent size ({@link ConfigProbe#inputs}:
 * every input the UNet declares, so SDXL's {@code text_embeds} and {@code time_ids} too) and prints
 * {@code probe<TAB>key<TAB>value} lines: the UNet file's weights, the resident memory after loading, the peak (VmHWM)
 * after the call, the call's seconds. Run one size and batch per process: the peak is the process's. {@code component}
 * ({@code unet} by default) can name {@code vae_decoder} instead: its latent input is shaped the same way.
 */
public final class UnetMemoryProbe {

	private UnetMemoryProbe() {}

	public static void main(String[] args) throws OrtException {
		if (args.length != 4 && args.length != 5) {
			System.err.println("usage: UnetMemoryProbe <model folder> <width> <height> <batch> [unet|vae_decoder]");
			System.exit(2);
		}
		String component = args.length == 5 ? args[4] : "unet";
		Path unetFile = Path.of(args[0]).resolve(component).resolve("model.onnx");
		int width = Integer.parseInt(args[1]), height = Integer.parseInt(args[2]), batch = Integer.parseInt(args[3]);
		OnnxEnvironment.get();
		SessionFactory sessions = new SessionFactory(RuntimeOptions.DEFAULTS);
		ConfigProbe shapes = new ConfigProbe(null, null, width, height, 0, System.out);
		emit("rss.start", MemoryStats.rss());
		long t = System.nanoTime();
		try (OrtSession unet = sessions.open(unetFile, SessionMemory.ARENA)) {
			emit("load.seconds", (System.nanoTime() - t) / 1e9);
			emit("rss.afterLoad", MemoryStats.rss());
			Map<String, OnnxTensor> inputs = shapes.inputs(unet, component, batch, crossAttentionWidth(unet));
			try {
				t = System.nanoTime();
				try (OrtSession.Result r = unet.run(inputs)) {
					emit("call.seconds", (System.nanoTime() - t) / 1e9);
				}
			}
			finally {
				inputs.values().forEach(OnnxTensor::close);
			}
			emit("rss.afterCall", MemoryStats.rss());
			emit("rss.peak", MemoryStats.peakRss());
		}
		System.out.flush();
		System.exit(0); // no lingering ONNX Runtime threads
	}

	/** The width of {@code encoder_hidden_states} as the UNet declares it (2048 for SDXL base), else 768. */
	static int crossAttentionWidth(OrtSession unet) throws OrtException {
		var info = unet.getInputInfo().get("encoder_hidden_states");
		if (info != null && info.getInfo() instanceof ai.onnxruntime.TensorInfo t && t.getShape().length == 3
			&& t.getShape()[2] > 0) return (int) t.getShape()[2];
		return 768;
	}

	private static void emit(String key, Object value) {
		System.out.println("probe\t" + key + "\t" + value);
		System.out.flush();
	}
}
