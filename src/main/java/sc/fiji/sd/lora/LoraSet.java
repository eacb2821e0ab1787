package sc.fiji.sd.lora;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtException;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.onnx.Fp16;
import sc.fiji.sd.onnx.InitializerOverrides;
import sc.fiji.sd.onnx.OnnxEnvironment;
import sc.fiji.sd.onnx.OnnxGraph;

/**
 * The LoRAs of a {@link LoraSpec}, read once, turned into patched initializers per component when the sessions are
 * created. Owns the tensors it hands out: close it after the sessions.
 */
public final class LoraSet implements InitializerOverrides {

	private final LoraSpec spec;
	private final List<LoraPatcher.Weighted> loras = new ArrayList<>();
	private final List<OnnxTensor> tensors = new ArrayList<>();
	private final List<String> warnings = new ArrayList<>();
	private final Map<Lora, Integer> matched = new LinkedHashMap<>();
	private final Map<Lora, List<String>> unmatched = new LinkedHashMap<>();
	private String hashes;

	/** Reads every file of {@code spec} (headers and LoRA weights). */
	public LoraSet(LoraSpec spec) {
		this.spec = spec;
		for (LoraSpec.Entry e : spec.entries()) loras.add(new LoraPatcher.Weighted(Lora.read(e.file()), e.weight()));
	}

	public LoraSpec spec() { return spec; }

	public boolean isEmpty() { return loras.isEmpty(); }

	@Override
	public synchronized Map<String, OnnxTensorLike> forComponent(String component, Path modelFile) {
		if (loras.stream().noneMatch(w -> !w.lora().modules(component).isEmpty())) return Map.of();
		LoraPatcher.Result r = LoraPatcher.patch(OnnxGraph.read(modelFile), component, loras);
		for (LoraPatcher.Weighted w : loras) {
			int n = (int) w.lora().modules(component).size() - r.unmatched().getOrDefault(w.lora(), List.of()).size();
			matched.merge(w.lora(), n, Integer::sum);
		}
		r.unmatched().forEach((lora, keys) -> {
			unmatched.computeIfAbsent(lora, k -> new ArrayList<>()).addAll(keys);
			warnings.add("LoRA " + lora.name() + ": " + keys.size() + " of " + lora.modules(component).size() + " "
				+ component + " modules match no weight of the model and were left out, e.g. "
				+ keys.stream().limit(3).collect(Collectors.joining(", ")));
		});
		Map<String, OnnxTensorLike> out = new LinkedHashMap<>();
		try {
			for (Map.Entry<String, LoraPatcher.Patched> e : r.patched().entrySet()) {
				OnnxTensor t = tensor(e.getValue());
				tensors.add(t);
				out.put(e.getKey(), t);
			}
		}
		catch (OrtException ex) {
			throw new StableDiffusionException("Cannot hand the LoRA-patched weights of " + component
				+ " to ONNX Runtime: " + ex.getMessage(), ex);
		}
		return out;
	}

	/** The patched values, already in the initializer's own element type: the buffer becomes the tensor, no copy. */
	static OnnxTensor tensor(LoraPatcher.Patched p) throws OrtException {
		OnnxGraph.Initializer init = p.original();
		var env = OnnxEnvironment.get();
		if (init.dataType() == OnnxGraph.FLOAT) return OnnxTensor.createTensor(env, p.data().asFloatBuffer(), init.dims());
		return OnnxTensor.createTensor(env, p.data(), init.dims(), init.dataType() == OnnxGraph.BFLOAT16
			? OnnxJavaType.BFLOAT16 : OnnxJavaType.FLOAT16);
	}

	/** fp32 values as a tensor of the initializer's own element type (fp16 and bf16 cast back from fp32). */
	static OnnxTensor tensor(OnnxGraph.Initializer init, FloatBuffer v) throws OrtException {
		var env = OnnxEnvironment.get();
		if (init.dataType() == OnnxGraph.FLOAT) return OnnxTensor.createTensor(env, v, init.dims()); // direct: no copy
		ByteBuffer b = ByteBuffer.allocateDirect(v.capacity() * 2).order(ByteOrder.nativeOrder());
		boolean bf16 = init.dataType() == OnnxGraph.BFLOAT16;
		for (int i = 0; i < v.capacity(); i++) b.putShort(bf16 ? LowRankUpdate.bfloat16(v.get(i)) : Fp16.fromFloat(v.get(i)));
		b.rewind();
		return OnnxTensor.createTensor(env, b, init.dims(), bf16 ? OnnxJavaType.BFLOAT16 : OnnxJavaType.FLOAT16);
	}

	/**
	 * Checks, after every component was patched, that each LoRA changed something: a LoRA none of whose modules
	 * match is for another model, and running without its effect would mislead.
	 */
	public synchronized void checkEveryLoraApplied() {
		for (LoraPatcher.Weighted w : loras) {
			if (matched.getOrDefault(w.lora(), 0) == 0) {
				List<String> keys = unmatched.getOrDefault(w.lora(), List.of());
				throw new StableDiffusionException("LoRA " + w.lora().name() + " matches no weight of this model ("
					+ w.lora().moduleCount() + " modules, e.g. " + keys.stream().limit(3).collect(Collectors.joining(", "))
					+ "). It was made for another model family, or the model's export renamed its layers.");
			}
		}
	}

	/**
	 * Refuses a prompt whose {@code <lora:name>} tags name no LoRA applied to the model ({@code applied}, the model's
	 * {@link sc.fiji.sd.model.StableDiffusionModel#initializerOverrides()}): the tags are taken out of the prompt
	 * before tokenizing, so a front end that does not load them would drop them without a word.
	 */
	public static void checkTagsApplied(String prompt, InitializerOverrides applied) {
		LoraSet set = applied.part(LoraSet.class);
		List<String> loaded = set != null
			? set.spec.entries().stream().map(e -> Lora.nameOf(e.file())).toList() : List.of();
		for (var tag : sc.fiji.sd.text.ExtraNetworks.loras(prompt)) {
			if (!loaded.contains(tag.name())) {
				throw new StableDiffusionException("The prompt asks for <lora:" + tag.name() + "> but that LoRA is not "
					+ "loaded with the model: this way of generating does not apply LoRA tags. Use Text to Image, Image "
					+ "to Image or Inpaint with the LoRA folder set in Settings, or txt2img --lora-dir DIR.");
			}
		}
	}

	/** Modules that matched nothing, one line per LoRA and component (count and first few). */
	public synchronized List<String> warnings() { return List.copyOf(warnings); }

	/** {@link #hashes(LoraSpec)} of this set's LoRAs, computed once (each reads a whole LoRA file). */
	public synchronized String hashes() {
		if (hashes == null) hashes = hashes(spec);
		return hashes;
	}

	/**
	 * A1111's {@code Lora hashes} value: {@code name: <first 12 hex of the sha256 of the data after the header>}
	 * (the "addnet" hash A1111 writes for LoRAs), comma-separated.
	 */
	public static String hashes(LoraSpec spec) {
		return spec.entries().stream().map(LoraSpec.Entry::file).distinct()
			.map(f -> Lora.nameOf(f) + ": " + shortHash(f)).collect(Collectors.joining(", "));
	}

	/**
	 * {@code parameters} (A1111's text) with {@code Lora hashes: "…"} added; unchanged when {@code hashes} is null.
	 * Take {@code hashes} from {@link #hashes(LoraSpec)} once per run: it reads every LoRA file whole.
	 */
	public static String withHashes(String parameters, String hashes) {
		return hashes == null ? parameters : parameters + ", Lora hashes: \"" + hashes + "\"";
	}

	static String shortHash(Path file) {
		try (InputStream in = Files.newInputStream(file)) {
			byte[] len = in.readNBytes(8);
			long header = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
			in.skipNBytes(header);
			return sha256(in).substring(0, 12);
		}
		catch (IOException e) {
			throw new StableDiffusionException("Cannot hash " + file + ": " + e.getMessage(), e);
		}
	}

	/** The SHA-256 of the rest of {@code in}, in lower-case hex. */
	static String sha256(InputStream in) throws IOException {
		try {
			MessageDigest sha = MessageDigest.getInstance("SHA-256");
			byte[] buf = new byte[1 << 16];
			for (int n; (n = in.read(buf)) > 0;) sha.update(buf, 0, n);
			return HexFormat.of().formatHex(sha.digest());
		}
		catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException("Java without SHA-256", e);
		}
	}

	@Override
	public synchronized void close() {
		tensors.forEach(OnnxTensor::close);
		tensors.clear();
	}
}
