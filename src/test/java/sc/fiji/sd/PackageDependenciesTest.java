package sc.fiji.sd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The layering of the sources: no two packages of sc.fiji.sd depend on each other, directly or through others (a
 * cycle makes every package of it one unit: none can be read, tested or replaced alone), and the {@code sd.*} system
 * properties are read in one place; front ends do not depend on each other, and the core on none of them. Reads
 * src/main/java: imports and fully qualified names in code, not in comments.
 */
class PackageDependenciesTest {

	private static final Path SOURCES = Path.of("src/main/java");
	private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);
	/** A reference to a type of ours: the package is what comes before the first capitalised name. */
	private static final Pattern REFERENCE = Pattern.compile("\\b(sc\\.fiji\\.sd(?:\\.[a-z][a-z0-9_]*)*)\\.[A-Z*]");

	/** Package → the other packages of ours its sources refer to. */
	static Map<String, Set<String>> dependencies(Path root) {
		Map<String, Set<String>> graph = new TreeMap<>();
		try (Stream<Path> files = Files.walk(root)) {
			for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".java"))::iterator) {
				String code = withoutComments(Files.readString(file, StandardCharsets.UTF_8));
				Matcher m = PACKAGE.matcher(code);
				if (!m.find()) continue;
				String from = m.group(1);
				Set<String> to = graph.computeIfAbsent(from, k -> new TreeSet<>());
				Matcher r = REFERENCE.matcher(code.substring(m.end()));
				while (r.find())
					if (!r.group(1).equals(from)) to.add(r.group(1));
			}
		}
		catch (IOException e) {
			throw new UncheckedIOException(e);
		}
		return graph;
	}

	/** The code with block and line comments blanked (string literals kept; a "//" in one ends nothing we need). */
	static String withoutComments(String code) {
		StringBuilder out = new StringBuilder(code.length());
		int i = 0, n = code.length();
		while (i < n) {
			char c = code.charAt(i);
			if (c == '"') { // a string literal: copied as is
				int j = i + 1;
				while (j < n && code.charAt(j) != '"' && code.charAt(j) != '\n')
					j += code.charAt(j) == '\\' ? 2 : 1;
				out.append(code, i, Math.min(j + 1, n));
				i = j + 1;
			}
			else if (code.startsWith("/*", i)) {
				int end = code.indexOf("*/", i + 2);
				i = end < 0 ? n : end + 2;
				out.append(' ');
			}
			else if (code.startsWith("//", i)) {
				int end = code.indexOf('\n', i);
				i = end < 0 ? n : end;
			}
			else {
				out.append(c);
				i++;
			}
		}
		return out.toString();
	}

	/** The cycles of the graph: its strongly connected components of more than one package (Tarjan). */
	static List<Set<String>> cycles(Map<String, Set<String>> graph) {
		Map<String, Integer> index = new HashMap<>(), low = new HashMap<>();
		Deque<String> stack = new ArrayDeque<>();
		Set<String> onStack = new TreeSet<>();
		List<Set<String>> found = new ArrayList<>();
		for (String v : graph.keySet())
			if (!index.containsKey(v)) connect(v, graph, index, low, stack, onStack, found);
		return found;
	}

	private static void connect(String v, Map<String, Set<String>> graph, Map<String, Integer> index,
		Map<String, Integer> low, Deque<String> stack, Set<String> onStack, List<Set<String>> found)
	{
		index.put(v, index.size());
		low.put(v, index.get(v));
		stack.push(v);
		onStack.add(v);
		for (String w : graph.getOrDefault(v, Set.of())) {
			if (!index.containsKey(w)) {
				connect(w, graph, index, low, stack, onStack, found);
				low.put(v, Math.min(low.get(v), low.get(w)));
			}
			else if (onStack.contains(w)) low.put(v, Math.min(low.get(v), index.get(w)));
		}
		if (low.get(v).equals(index.get(v))) {
			Set<String> component = new TreeSet<>();
			String w;
			do {
				w = stack.pop();
				onStack.remove(w);
				component.add(w);
			}
			while (!w.equals(v));
			if (component.size() > 1) found.add(component);
		}
	}

	@Test
	void noPackageCycles() {
		Map<String, Set<String>> graph = dependencies(SOURCES);
		assertTrue(graph.size() > 5, "the sources were found: " + graph.keySet());
		List<Set<String>> cycles = cycles(graph);
		StringBuilder why = new StringBuilder();
		for (Set<String> cycle : cycles) {
			why.append("\ncycle ").append(cycle).append(':');
			for (String p : cycle)
				for (String q : graph.get(p))
					if (cycle.contains(q)) why.append("\n  ").append(p).append(" -> ").append(q);
		}
		assertEquals(List.of(), cycles, why.toString());
	}

	/** The front ends: each talks to the core (and the ImageJ ones to their shared layer), never to another. */
	static final Set<String> FRONT_ENDS = Set.of("sc.fiji.sd.fiji", "sc.fiji.sd.ij1", "sc.fiji.sd.cli");

	/** The ImageJ code the Fiji commands and the ImageJ 1.x plugins share (conversion, generation, Info, Settings). */
	static final String SHARED_IMAGEJ = "sc.fiji.sd.imagej";

	/**
	 * What may not depend on what: a front end on another front end, the shared ImageJ layer on a front end, the core
	 * (every other package) on a front end or on the ImageJ layer. Each entry says "from -> to".
	 */
	static List<String> layerViolations(Map<String, Set<String>> graph) {
		List<String> wrong = new ArrayList<>();
		graph.forEach((from, targets) -> {
			for (String to : targets) {
				boolean toFrontEnd = FRONT_ENDS.contains(to);
				boolean core = !FRONT_ENDS.contains(from) && !from.equals(SHARED_IMAGEJ);
				if (toFrontEnd || (core && to.equals(SHARED_IMAGEJ))) wrong.add(from + " -> " + to);
			}
		});
		return wrong;
	}

	@Test
	void frontEndsDoNotLeanOnEachOtherAndTheCoreOnNone() {
		Map<String, Set<String>> graph = dependencies(SOURCES);
		assertTrue(graph.keySet().containsAll(FRONT_ENDS) && graph.containsKey(SHARED_IMAGEJ), graph.keySet()
			.toString());
		assertEquals(List.of(), layerViolations(graph));
	}

	@Test
	void theLayerCheckFindsEachKindOfViolation() {
		assertEquals(List.of("sc.fiji.sd.fiji -> sc.fiji.sd.ij1"), layerViolations(Map.of("sc.fiji.sd.fiji", Set.of(
			"sc.fiji.sd.ij1", "sc.fiji.sd.imagej", "sc.fiji.sd.model"))));
		assertEquals(List.of("sc.fiji.sd.imagej -> sc.fiji.sd.cli"), layerViolations(Map.of("sc.fiji.sd.imagej",
			Set.of("sc.fiji.sd.cli", "sc.fiji.sd.pipeline"))));
		assertEquals(List.of("sc.fiji.sd.model -> sc.fiji.sd.imagej"), layerViolations(Map.of("sc.fiji.sd.model",
			Set.of("sc.fiji.sd.imagej", "sc.fiji.sd.onnx"))));
		assertEquals(List.of(), layerViolations(Map.of("sc.fiji.sd.ij1", Set.of("sc.fiji.sd.imagej", "sc.fiji.sd.batch"))));
	}

	/**
	 * Loaded models are owned by a provider that a front end's lifetime owns (the Fiji service, a command-line run);
	 * the one static holder is plain ImageJ 1.x's, which has no such lifetime.
	 */
	@Test
	void theOnlyStaticModelStateIsImageJ1sHolder() throws IOException {
		Pattern staticModel = Pattern.compile("static\\s+(final\\s+)?(volatile\\s+)?(ModelProvider|StableDiffusionModel|"
			+ "ImageGenerator|Settings)\\s+\\w+\\s*[;=]");
		List<String> holders = new ArrayList<>();
		try (Stream<Path> files = Files.walk(SOURCES)) {
			for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".java"))::iterator)
				if (staticModel.matcher(withoutComments(Files.readString(file, StandardCharsets.UTF_8))).find())
					holders.add(SOURCES.relativize(file).toString());
		}
		assertEquals(List.of("sc/fiji/sd/imagej/ImageJModels.java"), holders);
	}

	@Test
	void theCheckFindsCyclesAndOnlyCycles() {
		assertEquals(List.of(Set.of("a", "b", "c")), cycles(Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of(
			"a", "d"), "d", Set.of())));
		assertEquals(List.of(), cycles(Map.of("fiji", Set.of("ij1", "core"), "ij1", Set.of("core"), "core", Set.of())));
	}

	@Test
	void referencesAreImportsAndNamesInCodeNotInComments(@TempDir Path dir) throws IOException {
		Files.writeString(dir.resolve("X.java"), "package sc.fiji.sd.x;\nimport sc.fiji.sd.y.Y; // sc.fiji.sd.z.Z\n"
			+ "/** {@link sc.fiji.sd.w.W} */\nclass X { Object o = sc.fiji.sd.v.V.of(\"//\"); sc.fiji.sd.x.X self; }");
		assertEquals(Map.of("sc.fiji.sd.x", Set.of("sc.fiji.sd.v", "sc.fiji.sd.y")), dependencies(dir));
	}

	@Test
	void theSdSystemPropertiesAreReadInOnePlace() throws IOException {
		List<String> readers = new ArrayList<>();
		try (Stream<Path> files = Files.walk(SOURCES)) {
			for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".java"))::iterator) {
				String code = withoutComments(Files.readString(file, StandardCharsets.UTF_8));
				if (code.matches("(?s).*(getProperty|setProperty|clearProperty)\\(\\s*\"sd\\..*"))
					readers.add(SOURCES.relativize(file).toString());
			}
		}
		// EmbeddedModel's sd.embeddedModel (where the shipped model unpacks) is not a runtime option
		assertEquals(List.of("sc/fiji/sd/model/EmbeddedModel.java", "sc/fiji/sd/onnx/RuntimeOptions.java"), readers
			.stream().sorted().toList());
	}
}
