package sc.fiji.sd.lora;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtException;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.onnx.InitializerOverrides;
import sc.fiji.sd.onnx.OnnxGraph;
import sc.fiji.sd.text.ClipTokenizer;
import sc.fiji.sd.text.TriggerWords;

/**
 * The textual-inversion embeddings of an {@link EmbeddingSpec}, given to a text encoder by appending their vectors
 * as rows of its token embedding table (an initializer the graph gathers from with the token ids), so that each
 * trigger word becomes new token ids ({@link #triggerWords}). The table is found through the graph, not by name: the
 * Gather whose indices come from {@code input_ids}. Owns the tensors it hands out: close it after the sessions.
 * <p>
 * As in A1111, a file that cannot be used (unreadable, pickle, another width) does not stop the others: its word is
 * refused with the reason when a prompt uses it.
 */
public final class EmbeddingSet implements InitializerOverrides {

	private final EmbeddingSpec spec;
	private final List<Embedding> embeddings = new ArrayList<>();
	/** Name → why it cannot be used. */
	private final Map<String, String> refused = new LinkedHashMap<>();
	/** Text encoder → embedding → the id of its first vector's row. */
	private final Map<String, Map<Embedding, Integer>> firstIds = new HashMap<>();
	private final List<OnnxTensor> tensors = new ArrayList<>();
	private final Map<String, TriggerWords> triggerWords = new HashMap<>();

	/** Reads every file of {@code spec}; one that cannot be read is kept as refused, with the reason. */
	public EmbeddingSet(EmbeddingSpec spec) {
		this.spec = spec;
		for (EmbeddingSpec.Entry e : spec.entries()) {
			try {
				embeddings.add(Embedding.read(e.file()));
			}
			catch (StableDiffusionException ex) {
				refused.put(Embedding.nameOf(e.file()), "it could not be loaded: " + ex.getMessage());
			}
		}
	}

	public EmbeddingSpec spec() { return spec; }

	/** The embeddings read (whether or not their width fits the model). */
	public List<Embedding> embeddings() { return List.copyOf(embeddings); }

	@Override
	public synchronized Map<String, OnnxTensorLike> forComponent(String component, Path modelFile) {
		List<Embedding> mine = embeddings.stream().filter(e -> e.rows(component) != null).toList();
		if (!component.startsWith("text_encoder") || mine.isEmpty()) return Map.of();
		OnnxGraph graph = OnnxGraph.read(modelFile);
		OnnxGraph.Initializer table = tokenTable(graph);
		if (table == null) {
			throw new StableDiffusionException("Cannot apply textual-inversion embeddings to " + modelFile + ": no "
				+ "token embedding table found (a Gather over a [tokens, width] weight indexed by input_ids).");
		}
		int rows = (int) table.dims()[0], width = (int) table.dims()[1];
		Map<Embedding, Integer> ids = new LinkedHashMap<>();
		int next = rows;
		for (Embedding e : mine) {
			if (e.width(component) != width) {
				refused.put(e.name(), "its vectors have width " + e.width(component) + " and the model's text encoder ("
					+ component + ") has width " + width + ": it was made for another model family (SD 1.x 768, SD 2.x "
					+ "1024, SDXL 768 and 1280).");
				continue;
			}
			ids.put(e, next);
			next += e.vectors();
		}
		firstIds.put(component, ids);
		triggerWords.remove(component);
		if (ids.isEmpty()) return Map.of();
		long total = (long) next * width;
		if (total > Integer.MAX_VALUE / 4) throw new StableDiffusionException("The token table with embeddings is too large.");
		FloatBuffer values = ByteBuffer.allocateDirect((int) total * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
		values.put(OnnxGraph.read(table));
		for (Embedding e : ids.keySet()) values.put(e.rows(component));
		values.rewind();
		long[] dims = { next, width };
		OnnxGraph.Initializer grown = new OnnxGraph.Initializer(table.name(), dims, table.dataType(), table.storage(),
			table.file(), table.offset(), table.length());
		try {
			OnnxTensor t = LoraSet.tensor(grown, values);
			tensors.add(t);
			return Map.of(table.name(), t);
		}
		catch (OrtException ex) {
			throw new StableDiffusionException("Cannot hand the token table with embeddings of " + component
				+ " to ONNX Runtime: " + ex.getMessage(), ex);
		}
	}

	/**
	 * The token embedding table of a text encoder: the initializer (or a Cast of one: weights stored in fp16) that a
	 * Gather indexes with {@code input_ids} (through Cast, Reshape and the like); null when there is none.
	 */
	static OnnxGraph.Initializer tokenTable(OnnxGraph graph) {
		Map<String, OnnxGraph.Node> producers = new HashMap<>();
		for (OnnxGraph.Node n : graph.nodes()) for (String out : n.outputs()) producers.put(out, n);
		Set<String> passThrough = Set.of("Cast", "Reshape", "Unsqueeze", "Squeeze", "Flatten", "Identity");
		for (OnnxGraph.Node n : graph.nodes()) {
			if (!n.opType().equals("Gather") || n.inputs().size() < 2) continue;
			String data = n.inputs().get(0);
			OnnxGraph.Node cast = producers.get(data);
			if (cast != null && cast.opType().equals("Cast") && !cast.inputs().isEmpty()) data = cast.inputs().get(0);
			OnnxGraph.Initializer init = graph.initializers().get(data);
			if (init == null || init.dims().length != 2) continue;
			String indices = n.inputs().get(1);
			for (int depth = 0; depth < 8; depth++) {
				OnnxGraph.Node p = producers.get(indices);
				if (p == null || !passThrough.contains(p.opType()) || p.inputs().isEmpty()) break;
				indices = p.inputs().get(0);
			}
			if (indices.equals("input_ids") || indices.endsWith("input_ids")) return init;
		}
		return null;
	}

	/**
	 * The trigger words of the embeddings applied to {@code encoder}, with their new ids, and those of the files that
	 * could not be applied (refused when used). Ask after the sessions were created.
	 */
	public synchronized TriggerWords triggerWords(ClipTokenizer tokenizer, String encoder) {
		return triggerWords.computeIfAbsent(encoder, k -> {
			List<TriggerWords.Word> words = new ArrayList<>();
			Set<String> applied = new LinkedHashSet<>();
			firstIds.getOrDefault(encoder, Map.of()).forEach((e, first) -> {
				int[] ids = new int[e.vectors()];
				for (int i = 0; i < ids.length; i++) ids[i] = first + i;
				applied.add(e.name());
				for (String trigger : e.triggers()) words.add(new TriggerWords.Word(e.name(), tokenizer.encode(trigger), ids, null));
			});
			refused.forEach((name, why) -> {
				if (!applied.contains(name)) words.add(new TriggerWords.Word(name, tokenizer.encode(name), null, why));
			});
			return new TriggerWords(words);
		});
	}

	/**
	 * A1111's {@code TI hashes} value for the embeddings {@code used}: {@code name: <first 12 hex of the sha256 of
	 * the whole file>}, comma-separated in the order used (colons and commas taken out of names, as A1111 does);
	 * null when none.
	 */
	public String hashes(Collection<String> used) {
		List<String> parts = new ArrayList<>();
		for (String name : used) {
			for (Embedding e : embeddings) {
				if (e.name().equals(name))
					parts.add(name.replace(":", "").replace(",", "") + ": " + fileHash(e.file()).substring(0, 12));
			}
		}
		return parts.isEmpty() ? null : String.join(", ", parts);
	}

	/** {@link #hashes} of the embeddings {@code prompts} use (A1111 syntax; null prompts are skipped). */
	public String hashesFor(ClipTokenizer tokenizer, String... prompts) {
		TriggerWords words = triggerWords(tokenizer, Embedding.FIRST_ENCODER);
		Set<String> used = new LinkedHashSet<>();
		for (String p : prompts) used.addAll(words.usedIn(p, tokenizer));
		return hashes(used);
	}

	/** {@code parameters} with {@code TI hashes: "…"} added; unchanged when {@code hashes} is null. */
	public static String withHashes(String parameters, String hashes) {
		return hashes == null ? parameters : parameters + ", TI hashes: \"" + hashes + "\"";
	}

	static String fileHash(Path file) {
		try (InputStream in = Files.newInputStream(file)) {
			return LoraSet.sha256(in);
		}
		catch (IOException e) {
			throw new StableDiffusionException("Cannot hash " + file + ": " + e.getMessage(), e);
		}
	}

	/** The names of the files that cannot be used, with the reasons (for --verbose and Info). */
	public synchronized Map<String, String> refused() { return Map.copyOf(refused); }

	@Override
	public synchronized void close() {
		tensors.forEach(OnnxTensor::close);
		tensors.clear();
	}

	@Override
	public String toString() {
		return embeddings.stream().map(Embedding::toString).collect(Collectors.joining(", "));
	}
}
