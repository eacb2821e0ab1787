package sc.fiji.sd.lora;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.onnx.Fp16;
import sc.fiji.sd.onnx.OnnxGraph;

/**
 * Applies LoRA updates to the weights of one exported component: W ← W + weight · (alpha / rank) · up · down.
 * <p>
 * Modules are found through the graph's node names, not its initializer names: torch.onnx renames a bias-free
 * Linear's weight to {@code onnx::MatMul_N} and stores it transposed ({@code [in, out]}), but the MatMul node keeps
 * the module's path ({@code /down_blocks.0/…/attn1/to_q/MatMul} → {@code down_blocks_0_…_attn1_to_q}, the kohya
 * form). Gemm weights are {@code [out, in]} with {@code transB=1} (else {@code [in, out]}); Conv weights are
 * {@code [out, in, kh, kw]} and keep their parameter names, which are matched too. fp16 and bf16 weights are patched
 * in fp32 and stored back in their own type, rounded once after all LoRAs ({@link LowRankUpdate}).
 */
public final class LoraPatcher {

	/** How a weight initializer is laid out relative to ΔW {@code [out, in…]}. */
	enum Layout { OUT_IN, IN_OUT }

	/** A weight the graph multiplies by, reachable by module key. */
	record Target(String initializer, Layout layout) {}

	/**
	 * A patched initializer: its values in its own element type (fp32, fp16 or bf16) in a direct native-order buffer,
	 * handed to ONNX Runtime as is, with the original's shape and element type.
	 */
	public record Patched(OnnxGraph.Initializer original, ByteBuffer data) {
		/** The values as fp32 (a copy, for checks). */
		public float[] floats() {
			float[] out = new float[(int) original.elements()];
			if (original.dataType() == OnnxGraph.FLOAT) data.asFloatBuffer().get(0, out);
			else {
				var bits = data.asShortBuffer();
				boolean bf16 = original.dataType() == OnnxGraph.BFLOAT16;
				for (int i = 0; i < out.length; i++) {
					short h = bits.get(i);
					out[i] = bf16 ? Float.intBitsToFloat((h & 0xffff) << 16) : Fp16.toFloat(h);
				}
			}
			return out;
		}
	}

	/** One LoRA with the weight it is applied at. */
	public record Weighted(Lora lora, double weight) {}

	/** What patching did: the patched initializers and the modules that matched nothing, per LoRA. */
	public record Result(Map<String, Patched> patched, Map<Lora, List<String>> unmatched, int matched) {}

	private LoraPatcher() {}

	/** The module keys of {@code graph}'s weighted nodes (MatMul, Gemm, Conv with an initializer weight). */
	static Map<String, Target> targets(OnnxGraph graph) {
		Map<String, Target> targets = new HashMap<>();
		Map<String, String> castOutputs = new HashMap<>(); // a Cast of an initializer (fp16 weights cast to fp32)
		for (OnnxGraph.Node node : graph.nodes()) {
			if (node.opType().equals("Cast") && node.inputs().size() == 1 && node.outputs().size() == 1
				&& graph.initializers().containsKey(node.inputs().get(0)))
				castOutputs.put(node.outputs().get(0), node.inputs().get(0));
		}
		for (OnnxGraph.Node node : graph.nodes()) {
			String op = node.opType();
			if (!(op.equals("MatMul") || op.equals("Gemm") || op.equals("Conv")) || node.inputs().size() < 2) continue;
			String weight = node.inputs().get(1);
			weight = castOutputs.getOrDefault(weight, weight);
			if (!graph.initializers().containsKey(weight)) continue;
			Layout layout = op.equals("MatMul") || (op.equals("Gemm") && node.attribute("transB", 0) == 0)
				? Layout.IN_OUT : Layout.OUT_IN;
			Target t = new Target(weight, layout);
			String name = node.name().startsWith("/") ? node.name().substring(1) : node.name();
			int slash = name.lastIndexOf('/');
			if (slash > 0) targets.putIfAbsent(Lora.normalize(name.substring(0, slash)), t);
			if (weight.endsWith(".weight")) targets.putIfAbsent(Lora.normalize(weight.substring(0, weight.length() - 7)), t);
		}
		return targets;
	}

	/**
	 * Patches {@code graph} (the export of {@code component}) with every LoRA's modules for that component.
	 *
	 * @throws StableDiffusionException when a LoRA's module has another shape than the model's weight (a LoRA for
	 *         another model family or width)
	 */
	public static Result patch(OnnxGraph graph, String component, List<Weighted> loras) {
		Map<String, Target> targets = targets(graph);
		Map<String, List<Update>> updates = new LinkedHashMap<>(); // by initializer, in file order of the LoRAs
		Map<Lora, List<String>> unmatched = new LinkedHashMap<>();
		int matched = 0;
		for (Weighted w : loras) {
			for (Lora.Module m : w.lora().modules(component)) {
				Target t = targets.get(m.key());
				if (t == null) {
					unmatched.computeIfAbsent(w.lora(), k -> new ArrayList<>()).add(m.label());
					continue;
				}
				matched++;
				checkShape(w.lora(), m, graph.initializers().get(t.initializer()), t.layout());
				updates.computeIfAbsent(t.initializer(), k -> new ArrayList<>()).add(new Update(m, t.layout(), w.weight()));
			}
		}
		// one worker per core (the common pool and this thread) takes weights in turn: each is read once into the
		// buffer ONNX Runtime gets and patched there, in its own element type; nothing else of a weight's size is
		// kept, and the LoRA factors are read from their file into arrays the worker reuses
		List<Map.Entry<String, List<Update>>> work = new ArrayList<>(updates.entrySet());
		Patched[] done = new Patched[work.size()];
		AtomicInteger next = new AtomicInteger();
		int workers = Math.min(work.size(), ForkJoinPool.getCommonPoolParallelism() + 1);
		IntStream.range(0, workers).parallel().forEach(worker -> {
			LoraFactors factors = new LoraFactors();
			for (int i; (i = next.getAndIncrement()) < done.length;) {
				OnnxGraph.Initializer init = graph.initializers().get(work.get(i).getKey());
				ByteBuffer data = OnnxGraph.bytes(init);
				add(data, init.dataType(), work.get(i).getValue(), factors);
				done[i] = new Patched(init, data);
			}
		});
		Map<String, Patched> patched = new LinkedHashMap<>();
		for (int i = 0; i < done.length; i++) patched.put(work.get(i).getKey(), done[i]);
		return new Result(patched, unmatched, matched);
	}

	private record Update(Lora.Module module, Layout layout, double weight) {}

	private static void checkShape(Lora lora, Lora.Module m, OnnxGraph.Initializer init, Layout layout) {
		long[] d = init.dims();
		long out = d.length == 0 ? 0 : layout == Layout.OUT_IN ? d[0] : d[d.length - 1];
		long in = 1;
		if (layout == Layout.OUT_IN) for (int i = 1; i < d.length; i++) in *= d[i];
		else in = d.length == 2 ? d[0] : 0;
		if (out != m.out() || in != m.in()) {
			throw new StableDiffusionException("LoRA " + lora.name() + " does not fit this model: module " + m.label()
				+ " changes a weight of " + m.out() + " × " + m.in() + " but the model's (" + init.name() + ") is "
				+ Arrays.toString(d) + (layout == Layout.IN_OUT ? " (stored transposed)" : "")
				+ ". The LoRA was made for another model family or width (e.g. SD 1.5 vs SD 2.x vs SDXL).");
		}
	}

	/**
	 * {@code data} (an initializer of element type {@code dataType}, native order) += Σ weight · (alpha / rank) · up
	 * · down over {@code updates} (all of one initializer, so of one layout), in the initializer's layout. Each
	 * element's sum is the plain loop's ({@link LowRankUpdate}): the result does not depend on how the work is split.
	 */
	static void add(ByteBuffer data, int dataType, List<Update> updates, LoraFactors factors) {
		boolean transposed = updates.get(0).layout() == Layout.IN_OUT;
		Lora.Module first = updates.get(0).module();
		int out = (int) first.out(), in = (int) first.in();
		factors.clear();
		List<LowRankUpdate.Product> products = new ArrayList<>();
		for (Update u : updates) products.add(factors.product(u.module(), transposed, u.weight()));
		LowRankUpdate.add(transposed ? LowRankUpdate.Rows.of(data, dataType, in, out)
			: LowRankUpdate.Rows.of(data, dataType, out, in), products);
	}
}
